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
    /// The dock this station stands at (a warehouse, a site), recorded on every parcel it
    /// receives; empty: the machine's host name.
    pub dock: String,
    /// `en` or `zh`.
    pub language: String,
    pub scanner: ScannerConfig,
    pub printer: PrinterConfig,
    pub label: LabelConfig,
    pub policy: PolicyConfig,
    pub security: SecurityConfig,
    pub files: FilesConfig,
    /// Where each unit goes after its outcome (`[disposition]`).
    pub disposition: crate::domain::disposition::Disposition,
    /// The camera's folder and what needs a photo (`[photos]`).
    pub photos: PhotosConfig,
    /// The marketplace's refusal reason ids for our reason codes (`[marketplace]`).
    pub marketplace: MarketplaceConfig,
}

/// Photos as evidence: the folder the bench camera saves into, and what needs one.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PhotosConfig {
    /// The camera's folder: pictures saved there while a unit is current are attached to it
    /// (with no unit current, to the open parcel); `{station}` in it is the station's id.
    /// None: no photos at this station.
    pub inbox: Option<PathBuf>,
    /// Outcomes (`refuse`, `scrap`, ...) whose units need a photo before the parcel is
    /// signed, and `refuse_parcel`: a parcel refused at the dock needs one.
    pub required_for: Vec<String>,
    /// A picture is taken once its file has not changed for this long (a camera writes it
    /// a piece at a time).
    pub settle_ms: u32,
    /// A command that shows a photo on the desktop, given its file (`xdg-open`).
    pub viewer: Option<String>,
}

impl Default for PhotosConfig {
    fn default() -> Self {
        PhotosConfig { inbox: None, required_for: vec![], settle_ms: 500, viewer: None }
    }
}

impl PhotosConfig {
    pub fn required(&self) -> crate::store::station::PhotosRequired {
        crate::store::station::PhotosRequired::from_words(self.required_for.iter().map(String::as_str))
            .unwrap_or_default()
    }

    fn check(&self) -> Result<(), (&'static [&'static str], String)> {
        if let Err(w) =
            crate::store::station::PhotosRequired::from_words(self.required_for.iter().map(String::as_str))
        {
            let known = crate::store::station::PhotosRequired::WORDS.join(", ");
            return Err((&["photos", "required_for"], format!("\"{w}\" is not an outcome; known: {known}")));
        }
        if self.inbox.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err((&["photos", "inbox"], "must name a folder (or be left out)".into()));
        }
        if self.settle_ms > 10_000 {
            return Err((&["photos", "settle_ms"], "must be 0 to 10000 (milliseconds)".into()));
        }
        if self.viewer.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err((&["photos", "viewer"], "must be a command, e.g. \"xdg-open\" (or left out)".into()));
        }
        Ok(())
    }
}

/// The marketplace the refusals are disputed with: its refusal reason ids for our reason
/// codes (Tmall's `refuse_reason_id`), carried by the export and the evidence summary.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MarketplaceConfig {
    /// Its name, as the evidence summary shows it (`Tmall`).
    pub name: String,
    /// Our reason code (`DEFECTIVE`) to the marketplace's id for it.
    pub refusal_ids: std::collections::BTreeMap<String, String>,
}

impl MarketplaceConfig {
    /// The marketplace's id for a reason, if the table gives one.
    pub fn refusal_id(&self, reason: crate::domain::codes::Reason) -> Option<&str> {
        use crate::domain::codes::Coded;
        self.refusal_ids.get(reason.code()).map(String::as_str)
    }

    fn check(&self) -> Result<(), (&'static [&'static str], String)> {
        use crate::domain::codes::Coded;
        let hidden = |t: &str| crate::domain::text::in_file(t) != t;
        if self.name.chars().count() > 40 || hidden(&self.name) {
            return Err((
                &["marketplace", "name"],
                "must be at most 40 characters, without control characters".into(),
            ));
        }
        for (code, id) in &self.refusal_ids {
            // A key of the table is named by its own line.
            let key = || -> &'static [&'static str] {
                Box::leak(
                    vec!["marketplace", "refusal_ids", Box::leak(code.clone().into_boxed_str())]
                        .into_boxed_slice(),
                )
            };
            if crate::domain::codes::Reason::from_code(code).is_none() {
                let known: Vec<&str> = crate::domain::codes::Reason::ALL.iter().map(|r| r.code()).collect();
                return Err((key(), format!("\"{code}\" is not a reason code; known: {}", known.join(", "))));
            }
            let fits = |c: char| c.is_ascii_alphanumeric() || "-_.:/".contains(c);
            if id.is_empty() || id.len() > 64 || !id.chars().all(fits) {
                return Err((
                    key(),
                    "must be the marketplace's id: 1 to 64 letters, digits or - _ . : /".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Who may decide: supervisor sessions and PIN locks.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// A supervisor session opened by PIN closes after this many minutes without a key.
    pub supervisor_idle_minutes: u32,
    /// This many wrong PINs in a row lock the supervisor...
    pub pin_attempts: u32,
    /// ...for this many minutes, at every station and on the command line.
    pub pin_lock_minutes: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig { supervisor_idle_minutes: 5, pin_attempts: 5, pin_lock_minutes: 15 }
    }
}

impl SecurityConfig {
    pub fn pin_rules(&self) -> crate::store::auth::PinRules {
        crate::store::auth::PinRules { attempts: self.pin_attempts, lock_minutes: self.pin_lock_minutes }
    }

    fn check(&self) -> Result<(), (&'static [&'static str], String)> {
        const IDLE: &[&str] = &["security", "supervisor_idle_minutes"];
        const ATTEMPTS: &[&str] = &["security", "pin_attempts"];
        const LOCK: &[&str] = &["security", "pin_lock_minutes"];
        // The PIN rules are read by every process from its own configuration, so their bounds
        // are what keeps guessing slow whoever runs the command: at most 10 tries a quarter hour.
        for (key, v, lo, hi, what) in [
            (IDLE, self.supervisor_idle_minutes, 1, 480, "minutes"),
            (ATTEMPTS, self.pin_attempts, 1, 10, "wrong PINs"),
            (LOCK, self.pin_lock_minutes, 15, 24 * 60, "minutes"),
        ] {
            if !(lo..=hi).contains(&v) {
                return Err((key, format!("{v} must be {lo} to {hi} ({what})")));
            }
        }
        Ok(())
    }
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
    /// A command run (without waiting) for each OK, e.g. `paplay /usr/share/sounds/ok.wav`.
    pub ok_sound: Option<String>,
    /// A command run (without waiting) for each warning and error, in place of the bell.
    pub error_sound: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrinterConfig {
    /// A command that receives the label on standard input, e.g. `lp -d ZEBRA -o raw`.
    pub command: Option<String>,
    /// A raw TCP address, e.g. `192.0.2.10:9100`.
    pub address: Option<String>,
    /// `zpl` (TSPL printers are a known limit).
    pub language: String,
    /// How long one label may take to reach the printer (connecting and sending, or the
    /// command running) before it is given up and reported like a refused label.
    pub timeout_s: u32,
}

impl Default for PrinterConfig {
    fn default() -> Self {
        PrinterConfig { command: None, address: None, language: "zpl".into(), timeout_s: 10 }
    }
}

impl PrinterConfig {
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_s.into())
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LabelConfig {
    pub width_mm: u32,
    pub height_mm: u32,
    pub dpi: u32,
    /// A font stored on the label printer that has Chinese (`E:SIMSUN.TTF`, `E:ANMDS.TTF`):
    /// ZPL labels then print their text in it, Chinese included. Without one they print in the
    /// printer's font 0, which has no Chinese, and leave those characters out.
    pub zpl_font: Option<String>,
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
    /// A return signed in part (more boxes to come) closes after this many days with no
    /// further box: what never came is missing.
    pub await_boxes_days: u32,
    /// The return rate sets a period's returns against the shipments of the same-length period
    /// this many days earlier (returns come back two to three weeks after the sale).
    pub return_lag_days: u32,
    /// A product whose return rate is above this share (0.03: 3%) is flagged.
    pub return_rate_alert: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            station: "ST01".into(),
            dock: String::new(),
            language: "en".into(),
            scanner: ScannerConfig::default(),
            printer: PrinterConfig::default(),
            label: LabelConfig::default(),
            policy: PolicyConfig::default(),
            security: SecurityConfig::default(),
            files: FilesConfig::default(),
            disposition: Default::default(),
            photos: PhotosConfig::default(),
            marketplace: MarketplaceConfig::default(),
        }
    }
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            bell: true,
            auto_accept_matched: false,
            double_read_ms: 100,
            ok_sound: None,
            error_sound: None,
        }
    }
}

impl Default for LabelConfig {
    fn default() -> Self {
        LabelConfig { width_mm: 60, height_mm: 40, dpi: 203, zpl_font: None }
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            review_refusal_above: 500.0,
            review_refusals_per_parcel: 2,
            late_after_days: 3,
            await_boxes_days: 7,
            return_lag_days: 14,
            return_rate_alert: 0.03,
        }
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
        match config.check() {
            Ok(()) => Ok(Config { disposition: config.disposition.trimmed(), ..config }),
            Err((key, msg)) => Err((line_of(text, key), format!("{}: {msg}", key.join(".")))),
        }
    }

    /// Refuses every value that is nonsense, naming its key: a wrong value must stop the
    /// program at once, not print a label of zero dots or a picture of 24 GB.
    fn check(&self) -> Result<(), (&'static [&'static str], String)> {
        let station = self.station.trim();
        check_station_id(station).map_err(|m| (&["station"][..], m))?;
        if !self.dock.is_empty() {
            check_station_id(self.dock.trim()).map_err(|m| (&["dock"][..], m))?;
        }
        if !matches!(self.language.as_str(), "en" | "zh") {
            return Err((&["language"], format!("\"{}\" must be en or zh", self.language)));
        }
        const OK_SOUND: &[&str] = &["scanner", "ok_sound"];
        const ERROR_SOUND: &[&str] = &["scanner", "error_sound"];
        for (key, sound) in [(OK_SOUND, &self.scanner.ok_sound), (ERROR_SOUND, &self.scanner.error_sound)] {
            if sound.as_deref().is_some_and(|c| c.trim().is_empty()) {
                return Err((key, "must be a command, e.g. \"paplay ok.wav\" (or left out)".into()));
            }
        }
        if self.scanner.double_read_ms > 1000 {
            return Err((&["scanner", "double_read_ms"], "must be 0 to 1000 (milliseconds)".into()));
        }
        self.printer.check()?;
        self.security.check()?;
        self.disposition.check().map_err(|(key, m)| (disposition_key(key), m))?;
        self.photos.check()?;
        self.marketplace.check()?;
        let label = &self.label;
        const WIDTH: &[&str] = &["label", "width_mm"];
        const HEIGHT: &[&str] = &["label", "height_mm"];
        for (key, mm) in [(WIDTH, label.width_mm), (HEIGHT, label.height_mm)] {
            if !(10..=300).contains(&mm) {
                return Err((key, format!("{mm} must be 10 to 300 (millimetres)")));
            }
        }
        if let Some(font) = &label.zpl_font {
            crate::labels::zpl::check_font(font).map_err(|m| (&["label", "zpl_font"][..], m))?;
        }
        if !(150..=600).contains(&label.dpi) {
            return Err((&["label", "dpi"], format!("{} must be 150 to 600 (dots per inch)", label.dpi)));
        }
        let policy = &self.policy;
        let above = policy.review_refusal_above;
        if !(above.is_finite() && (0.0..=1e9).contains(&above)) {
            return Err((
                &["policy", "review_refusal_above"],
                format!("{above} must be an amount from 0 to 1000000000"),
            ));
        }
        if policy.review_refusals_per_parcel > 1000 {
            return Err((&["policy", "review_refusals_per_parcel"], "must be 0 to 1000 (units)".into()));
        }
        if policy.return_lag_days > 365 {
            return Err((&["policy", "return_lag_days"], "must be 0 to 365 (days)".into()));
        }
        let alert = policy.return_rate_alert;
        if !(alert.is_finite() && (0.0..=1.0).contains(&alert)) {
            return Err((
                &["policy", "return_rate_alert"],
                format!("{alert} must be a share from 0 to 1 (0.03 is 3%)"),
            ));
        }
        const LATE: &[&str] = &["policy", "late_after_days"];
        const AWAIT: &[&str] = &["policy", "await_boxes_days"];
        for (key, v, hi) in [(LATE, policy.late_after_days, 365), (AWAIT, policy.await_boxes_days, 90)] {
            if !(1..=hi).contains(&v) {
                return Err((key, format!("{v} must be 1 to {hi} (days)")));
            }
        }
        Ok(())
    }
}

impl PrinterConfig {
    /// Printer languages this program speaks.
    pub const LANGUAGES: &'static [&'static str] = &["zpl"];

    fn check(&self) -> Result<(), (&'static [&'static str], String)> {
        if !Self::LANGUAGES.contains(&self.language.as_str()) {
            let known = Self::LANGUAGES.join(", ");
            return Err((
                &["printer", "language"],
                format!("\"{}\" is not spoken; known: {known}", self.language),
            ));
        }
        if !(1..=300).contains(&self.timeout_s) {
            return Err((
                &["printer", "timeout_s"],
                format!("{} must be 1 to 300 (seconds)", self.timeout_s),
            ));
        }
        if self.address.is_some() && self.command.is_some() {
            return Err((
                &["printer", "command"],
                "give the printer's address or a command, not both".into(),
            ));
        }
        if self.command.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err((&["printer", "command"], "is empty (leave it out when there is no printer)".into()));
        }
        if let Some(a) = &self.address {
            let port =
                a.trim().rsplit_once(':').filter(|(host, _)| !host.is_empty()).map(|(_, p)| p.parse::<u16>());
            if !matches!(port, Some(Ok(p)) if p > 0) {
                return Err((
                    &["printer", "address"],
                    format!("\"{a}\" must be host:port, e.g. 192.0.2.10:9100"),
                ));
            }
        }
        Ok(())
    }
}

/// A station id (from the configuration or `--station`): printed on every record, so 1 to 32
/// characters with nothing hidden in them.
/// The configuration key of a `[disposition]` entry.
fn disposition_key(key: &str) -> &'static [&'static str] {
    match key {
        "accept" => &["disposition", "accept"],
        "second_hand_b" => &["disposition", "second_hand_b"],
        "second_hand_c" => &["disposition", "second_hand_c"],
        "scrap" => &["disposition", "scrap"],
        "return_to_supplier" => &["disposition", "return_to_supplier"],
        _ => &["disposition", "refuse"],
    }
}

pub fn check_station_id(station: &str) -> Result<(), String> {
    let hidden = crate::domain::text::in_file(station) != station;
    if station.trim().is_empty() || station.chars().count() > 32 || hidden {
        return Err("must be 1 to 32 characters, without control, invisible or reordering characters".into());
    }
    Ok(())
}

impl Config {
    /// The dock this station stands at: the configured one, else the machine's host name.
    pub fn dock_name(&self) -> String {
        match self.dock.trim() {
            "" => crate::store::work::host(),
            d => d.to_string(),
        }
    }
}

/// The line of `key` (a path of table names and the key) in `text`, when it is written there.
fn line_of(text: &str, key: &[&str]) -> Option<usize> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let (first, rest) = key.split_first()?;
    let mut at = doc.get_ref().get(*first)?;
    for k in rest {
        at = at.get_ref().get(*k)?;
    }
    Some(text[..at.span().start].matches('\n').count() + 1)
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
    fn the_defaults_pass_their_own_checks() {
        assert_eq!(Config::parse(""), Ok(Config::default()));
        assert_eq!(Config::default().printer.language, "zpl");
    }

    #[test]
    fn a_printer_font_and_the_sounds_are_checked_with_their_line() {
        let c = Config::parse("[label]\nzpl_font = \"E:SIMSUN.TTF\"\n").unwrap();
        assert_eq!(c.label.zpl_font.as_deref(), Some("E:SIMSUN.TTF"));
        let (line, msg) = Config::parse("[label]\ndpi = 203\nzpl_font = \"SIMSUN^XZ\"\n").unwrap_err();
        assert_eq!(line, Some(3));
        assert!(msg.starts_with("label.zpl_font:") && msg.contains("E:SIMSUN.TTF"), "{msg}");
        let (line, msg) = Config::parse("[scanner]\nok_sound = \"  \"\n").unwrap_err();
        assert_eq!(line, Some(2));
        assert!(msg.starts_with("scanner.ok_sound:"), "{msg}");
    }

    #[test]
    fn a_typo_is_refused_with_its_line() {
        let (line, msg) = Config::parse("station = \"A\"\n\n[scanner]\nbel = false\n").unwrap_err();
        assert_eq!(line, Some(4));
        assert!(msg.contains("bel"), "{msg}");
    }
}
