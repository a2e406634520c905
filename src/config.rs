//! Station settings from a TOML file (`--config PATH`, else `returns-dock.toml` in the working
//! directory when there is one, else the defaults). Unknown keys are refused with their line,
//! so a typo never silently falls back to a default.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// This station's id, printed on every record it makes.
    pub station: String,
    /// `en` or `zh`.
    pub language: String,
    pub scanner: ScannerConfig,
    pub printer: PrinterConfig,
    pub label: LabelConfig,
    pub policy: PolicyConfig,
    pub files: FilesConfig,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// Files the program creates are 0640 (the group may read them) instead of 0600.
    pub group_readable: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScannerConfig {
    /// Ring the terminal bell on an error.
    pub bell: bool,
    /// Record matched units as accepted without a command (off by default).
    pub auto_accept_matched: bool,
    /// The same code twice in a row within this many milliseconds is one read (a scanner
    /// that re-reads); 0 turns the check off.
    pub double_read_ms: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PrinterConfig {
    /// A command that receives the label on standard input, e.g. `lp -d ZEBRA -o raw`.
    pub command: Option<String>,
    /// A raw TCP address, e.g. `192.0.2.10:9100`.
    pub address: Option<String>,
    /// `zpl` (TSPL printers are a known limit).
    pub language: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LabelConfig {
    pub width_mm: u32,
    pub height_mm: u32,
    pub dpi: u32,
}

impl LabelConfig {
    pub fn size(&self) -> crate::labels::zpl::LabelSize {
        crate::labels::zpl::LabelSize { width_mm: self.width_mm, height_mm: self.height_mm, dpi: self.dpi }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Refusing a unit worth more than this (in the currency's main unit) needs a review.
    pub review_refusal_above: f64,
    /// Refusing more than this many units of one parcel needs a review.
    pub review_refusals_per_parcel: u32,
    /// A parcel received but not signed after this many days is late.
    pub late_after_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            station: "ST01".into(),
            language: "en".into(),
            scanner: ScannerConfig::default(),
            printer: PrinterConfig::default(),
            label: LabelConfig::default(),
            policy: PolicyConfig::default(),
            files: FilesConfig::default(),
        }
    }
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig { bell: true, auto_accept_matched: false, double_read_ms: 100 }
    }
}

impl Default for LabelConfig {
    fn default() -> Self {
        LabelConfig { width_mm: 60, height_mm: 40, dpi: 203 }
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig { review_refusal_above: 500.0, review_refusals_per_parcel: 2, late_after_days: 3 }
    }
}

/// The name looked for in the working directory when no `--config` is given.
pub const DEFAULT_FILE: &str = "returns-dock.toml";

impl Config {
    /// Reads `explicit`, or the default file if present, or gives the defaults. Errors are
    /// `file:line: message`.
    pub fn load(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), String> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_FILE).exists() => PathBuf::from(DEFAULT_FILE),
            None => return Ok((Config::default(), None)),
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let config = Config::parse(&text).map_err(|(line, msg)| match line {
            Some(l) => format!("{}:{l}: {msg}", path.display()),
            None => format!("{}: {msg}", path.display()),
        })?;
        Ok((config, Some(path)))
    }

    pub fn parse(text: &str) -> Result<Config, (Option<usize>, String)> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            (line, e.message().to_string())
        })?;
        if !matches!(config.language.as_str(), "en" | "zh") {
            return Err((None, format!("language \"{}\" must be en or zh", config.language)));
        }
        if config.station.trim().is_empty() {
            return Err((None, "station must not be empty".into()));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c = Config::parse("station = \"DOCK-3\"\nlanguage = \"zh\"\n[label]\nwidth_mm = 100\n").unwrap();
        assert_eq!(c.station, "DOCK-3");
        assert_eq!(c.label.width_mm, 100);
        assert_eq!(c.label.height_mm, 40);
        assert!(c.scanner.bell);
    }

    #[test]
    fn a_typo_is_refused_with_its_line() {
        let (line, msg) = Config::parse("station = \"A\"\n\n[scanner]\nbel = false\n").unwrap_err();
        assert_eq!(line, Some(4));
        assert!(msg.contains("bel"), "{msg}");
    }
}
