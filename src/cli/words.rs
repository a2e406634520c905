//! Reading the command line's values: the trade's codes in every spelling they are accepted
//! in, listed in `--help`, and dates that say the form they expect.

use crate::domain::codes::Coded;
use clap::builder::{PossibleValue, TypedValueParser};
use std::ffi::OsStr;

/// Reads a code of `C` with `parse` (which may accept more than the code itself: any case,
/// `-` or `_`, Chinese words), and lists `C`'s codes, with their English words, in `--help`.
#[derive(Clone, Copy)]
pub struct CodeParser<C> {
    parse: fn(&str) -> Option<C>,
}

impl<C> CodeParser<C> {
    pub fn new(parse: fn(&str) -> Option<C>) -> Self {
        CodeParser { parse }
    }
}

impl<C: Coded + Send + Sync> TypedValueParser for CodeParser<C> {
    type Value = C;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<C, clap::Error> {
        let text = value.to_string_lossy();
        (self.parse)(&text).ok_or_else(|| {
            let known: Vec<&str> = C::ALL.iter().map(|c| c.code()).collect();
            let name = arg.map(|a| a.get_id().to_string()).unwrap_or_default();
            let mut e = clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!(
                    "{} is not a known {name}: one of {}\n",
                    crate::domain::text::on_screen(&text),
                    known.join(", ")
                ),
            );
            e = e.with_cmd(cmd);
            e
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(C::ALL.iter().map(|c| PossibleValue::new(c.code()).help(c.en()))))
    }
}

/// A day as `YYYY-MM-DD`; anything else is refused saying so.
pub fn date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        format!(
            "{} is not a date: the form is YYYY-MM-DD, e.g. 2026-11-23",
            crate::domain::text::on_screen(text)
        )
    })
}
