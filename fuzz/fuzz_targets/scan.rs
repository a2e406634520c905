//! The scan grammar on anything a scanner (or a cat on the keyboard) can type: it never
//! panics, cleaning is idempotent, and a parsed scan's text is what cleaning gave.
#![no_main]

use libfuzzer_sys::fuzz_target;
use returns_dock::domain::scan;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let clean = scan::normalise(&raw);
    assert_eq!(scan::normalise(&clean), clean, "cleaning twice changes nothing");
    let parsed = scan::parse(&raw);
    assert_eq!(parsed.text, scan::parse(&parsed.text).text);
});
