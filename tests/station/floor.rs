//! What the floor sees and may press: the footer shows exactly the keys that work, a key that
//! does not work here is refused out loud (or, for Esc and the arrows, let go), and the words
//! on screen are words, in English and in Chinese, at 80x24 and at 160x48.

use super::screen::{buffer_text, demo_db, Station};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::Terminal;
use returns_dock::station::app::{App, Effect, Msg, Tone};
use returns_dock::station::keys::{Action, BINDINGS};
use returns_dock::station::text::Lang;

/// Walks a shift through every screen and prompt, calling `at` at each stop with its name.
fn walk(lang: Lang, mut at: impl FnMut(&str, &Station)) {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", lang);
    at("sign_in", &s);
    s.scan("OP-DEMO");
    at("dock", &s);
    s.scan("YT5555555555555");
    at("dock_unidentified_offer", &s);
    s.press(KeyCode::Esc);
    s.scan("RMA-2026-0002");
    at("parcel_empty", &s);
    s.scan("6901234500011");
    at("serial", &s);
    s.scan("RB5-FAKE999");
    at("unit_flagged", &s);
    s.press(KeyCode::F(7));
    at("reason", &s);
    s.scan("CMD-REASON-OTHER");
    at("note", &s);
    s.scan("box crushed, seal broken");
    at("all_inspected", &s);
    s.ctrl('k');
    at("cause", &s);
    s.press(KeyCode::Esc);
    s.press(KeyCode::F(8));
    at("sign", &s);
    s.press(KeyCode::Esc);
    s.press(KeyCode::F(10));
    at("refuse_parcel", &s);
    s.press(KeyCode::Esc);
    s.press(KeyCode::F(8));
    s.press(KeyCode::F(12));
    at("dock_after_sign", &s);
    // A supervisor at a second station.
    let mut sup = Station::open(&db, "ST02", lang);
    sup.scan("OP-SUP1");
    at("supervisor_dock", &sup);
    sup.ctrl('r');
    at("pin", &sup);
    sup.scan("2468");
    at("review", &sup);
    sup.press(KeyCode::F(2));
    at("review_overturn", &sup);
    sup.press(KeyCode::Esc);
    sup.press(KeyCode::Esc);
    sup.ctrl('d');
    at("dashboard", &sup);
}

/// The feedback band's two lines as one text.
fn band(s: &Station) -> String {
    s.screen().lines().skip(1).take(2).collect::<Vec<_>>().join(" ")
}

/// True when the action changed nothing a user could notice but the band (and the bell).
fn refused(before: &App, after: &App, effects: &[Effect]) -> bool {
    let quiet = effects.iter().all(|e| matches!(e, Effect::Bell | Effect::Sound(_)));
    quiet
        && after.screen == before.screen
        && after.user == before.user
        && after.help == before.help
        && after.unlocked == before.unlocked
        && after.input == before.input
        // Esc clearing a stale band does something.
        && !(before.band.is_some() && after.band.is_none())
}

#[test]
fn the_footer_shows_exactly_the_keys_that_work() {
    for lang in [Lang::En, Lang::Zh] {
        let mut stops = 0;
        walk(lang, |name, s| {
            stops += 1;
            let app = &s.app;
            for b in BINDINGS {
                let mut tried = app.clone();
                let effects = tried.update(Msg::Action(b.action));
                let band = tried.band.as_ref().map(|b| b.text.clone()).unwrap_or_default();
                if app.takes(b.action) {
                    // A key the footer shows does something, and is never called unusable.
                    assert!(
                        !refused(app, &tried, &effects),
                        "{name}: {} is shown but does nothing ({band})",
                        b.label
                    );
                    let said = tried.band != app.band && band.contains("cannot be used here");
                    assert!(!said, "{name}: {} is shown: {band}", b.label);
                } else {
                    assert!(
                        refused(app, &tried, &effects),
                        "{name}: {} is not shown but acts: {effects:?}",
                        b.label
                    );
                    // Out loud, unless it is Esc or an arrow pressed by habit.
                    let quiet = matches!(b.action, Action::Up | Action::Down | Action::Command(_))
                        && tried.band == app.band;
                    let loud = tried.band.as_ref().is_some_and(|b| b.tone == Tone::Error);
                    assert!(
                        loud || quiet && b.action != Action::Export,
                        "{name}: {} refused silently",
                        b.label
                    );
                }
            }
            // The footer line lists taken keys only: each label in it is taken.
            let screen = s.screen();
            let footer = screen.lines().last().unwrap_or_default().to_string();
            for b in BINDINGS {
                let shown = footer
                    .split_whitespace()
                    .any(|w| w == b.label || w.starts_with(b.label) && b.label == "↑");
                if shown {
                    assert!(
                        app.takes(b.action),
                        "{name}: the footer shows {} which does not work: {footer}",
                        b.label
                    );
                }
            }
        });
        assert_eq!(stops, 18);
    }
}

#[test]
fn at_80_columns_the_footer_still_shows_f2_to_f7() {
    for lang in [Lang::En, Lang::Zh] {
        let (_dir, db) = demo_db();
        let mut s = Station::open(&db, "ST01", lang);
        s.scan("OP-DEMO");
        s.scan("RMA-2026-0009");
        s.scan("6901234500059");
        let screen = s.screen();
        let footer = screen.lines().last().unwrap().to_string();
        for label in ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10"] {
            assert!(footer.split_whitespace().any(|w| w == label), "{label} missing: {footer}");
        }
        assert!(ratatui::text::Span::raw(footer.as_str()).width() <= 80, "{footer}");
        // At 160 columns the words are whole.
        s.terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
        s.events(vec![]);
        let wide = s.screen();
        let footer = wide.lines().last().unwrap();
        let words = if lang == Lang::En { "F6 to supplier" } else { "F6 退供应商" };
        assert!(footer.contains(words), "{footer}");
    }
}

#[test]
fn signing_too_early_names_the_unit_without_an_outcome_and_selects_it() {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0009");
    s.scan("6901234500059");
    s.press(KeyCode::F(8));
    let screen = s.screen();
    assert!(screen.contains("Cannot sign: unit 1 (SKU-1005) has no outcome; it is selected"), "{screen}");
    assert!(screen.contains("▶1"), "the unit is marked as the one the next outcome goes to: {screen}");
    s.press(KeyCode::F(2));
    assert!(s.screen().contains("Unit 1: Accept"), "{}", s.screen());
}

#[test]
fn a_product_scanned_at_the_dock_is_said_to_be_a_product_and_nothing_is_booked() {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("6901234500059");
    let said = band(&s);
    assert!(said.contains("This is a product (SKU-1005,"), "{said}");
    assert!(said.contains("scan the parcel's label first"), "{said}");
    // No offer to book it in as unidentified: F11 is refused.
    s.press(KeyCode::F(11));
    assert!(s.screen().contains("✖ ERROR"), "{}", s.screen());
    assert_eq!(s.count("SELECT count(*) FROM parcels"), 0);
    let mut zh = Station::open(&db, "ST02", Lang::Zh);
    zh.scan("OP-DEMO");
    zh.scan("6901234500059");
    assert!(zh.screen().contains("这是商品条码（SKU-1005"), "{}", zh.screen());
}

#[test]
fn an_unknown_badge_on_an_empty_database_says_how_to_get_users() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-ANNA");
    let screen = s.screen();
    assert!(screen.contains("this database has no users yet"), "{screen}");
    assert!(screen.contains("import users"), "{screen}");
    // Where users exist, the plain answer.
    let (_d, demo) = demo_db();
    let mut s = Station::open(&demo, "ST01", Lang::En);
    s.scan("OP-ANNA");
    assert!(s.screen().contains("No user ANNA: check the badge or the id"), "{}", s.screen());
}

#[test]
fn the_grade_a_saved_note_and_an_empty_comment_are_said() {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0009");
    s.scan("6901234500059");
    s.press(KeyCode::F(4));
    assert!(s.screen().contains("▶ Second-hand C → "), "the prompt names the grade: {}", s.screen());
    s.scan("CMD-REASON-COSMETIC");
    assert!(s.screen().contains("◐ Second-hand C"), "{}", s.screen());
    s.ctrl('n');
    s.scan("");
    assert!(s.screen().contains("✖ ERROR"), "an empty note is refused: {}", s.screen());
    s.ctrl('n');
    s.scan("scratch on the lid");
    assert!(band(&s).contains("note saved: “scratch on the lid”"), "{}", s.screen());
    assert_eq!(s.count("SELECT count(*) FROM units WHERE note = 'scratch on the lid'"), 1);
    // A refusal, then a supervisor overturns it: an empty comment is refused out loud.
    s.press(KeyCode::F(8));
    s.scan("RMA-2026-0002");
    s.scan("6901234500011");
    s.scan("RB5-FAKE999");
    s.press(KeyCode::F(7));
    s.scan("CMD-REASON-SERIAL-MISMATCH");
    s.press(KeyCode::F(8));
    s.press(KeyCode::F(12));
    let mut sup = Station::open(&db, "ST02", Lang::En);
    sup.scan("OP-SUP1");
    sup.ctrl('r');
    sup.scan("2468");
    sup.press(KeyCode::F(3));
    sup.scan("");
    assert!(sup.screen().contains("An overturn needs a comment"), "{}", sup.screen());
    assert_eq!(sup.count("SELECT count(*) FROM reviews WHERE decision IS NOT NULL"), 0);
}

#[test]
fn last_parcels_say_how_each_was_closed() {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0009");
    s.scan("6901234500059");
    s.press(KeyCode::F(2));
    s.press(KeyCode::F(8));
    s.scan("RMA-2026-0002");
    s.press(KeyCode::F(8));
    s.press(KeyCode::F(12));
    s.scan("RMA-2026-0011");
    s.press(KeyCode::F(10));
    s.scan("CMD-REASON-OUTSIDE-POLICY");
    let screen = s.screen();
    assert!(screen.contains("✔ signed RMA-2026-0009"), "{screen}");
    assert!(screen.contains("⚠ signed, 2 discrepancies RM…"), "cut with …: {screen}");
    assert!(screen.contains("✖ refused RMA-2026-0011"), "{screen}");
    assert!(screen.contains("3 parcels, 1 unit, 0 refused"), "{screen}");
}

#[test]
fn configured_sounds_play_for_ok_and_for_errors() {
    let (dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    let heard = dir.path().join("heard.txt");
    s.app.ok_sound = true;
    s.app.error_sound = true;
    s.exec.sounds = returns_dock::station::exec::Sounds {
        ok: Some(format!("echo ok >> '{}'", heard.display())),
        error: Some(format!("echo error >> '{}'", heard.display())),
    };
    s.scan("OP-DEMO");
    s.scan("OP-NOBODY");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = std::fs::read_to_string(&heard).unwrap_or_default();
        if text.lines().count() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(lines, ["error", "ok"], "one sound each");
}

/// Codes a Chinese screen must never show: it says them in words.
const RAW_CODES: &[&str] = &[
    "refused_unit",
    "refused_parcel",
    "discrepancy",
    "serial_mismatch",
    "wrong_item",
    "second_hand",
    "signed",
    "refused",
    "median",
    "p90",
    "Waiting",
    "parcels",
    "units",
];

#[test]
fn the_chinese_screens_show_words_not_codes() {
    walk(Lang::Zh, |name, s| {
        let screen = s.screen();
        for code in RAW_CODES {
            assert!(!screen.contains(code), "{name} shows {code}:\n{screen}");
        }
    });
}

#[test]
fn every_screen_at_160x48_in_both_languages() {
    for lang in [Lang::En, Lang::Zh] {
        let tag = if lang == Lang::En { "en" } else { "zh" };
        walk(lang, |name, s| {
            if !["dock", "parcel_empty", "reason", "all_inspected", "sign", "review", "dashboard"]
                .contains(&name)
            {
                return;
            }
            let mut wide = Terminal::new(TestBackend::new(160, 48)).unwrap();
            wide.draw(|f| returns_dock::station::view::render(&s.app, f)).unwrap();
            let out = buffer_text(wide.backend().buffer());
            insta::assert_snapshot!(format!("wide_{tag}_{name}"), out);
        });
    }
}

/// An unidentified parcel's unit has no cause until it is linked: then the customer's stated
/// reason of its return decides it, as for any other unit (README's table).
#[test]
fn an_unidentified_parcels_unit_gets_its_cause_when_linked() {
    let (dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("YT5555555555555");
    s.press(KeyCode::F(11));
    s.scan("6901234500172");
    s.press(KeyCode::F(7));
    s.scan("CMD-REASON-WRONG-ITEM");
    assert!(!band(&s).contains("Fraud"), "no cause said before the link: {}", band(&s));
    // No ^K on a parcel no return claims.
    assert!(!s.app.takes(Action::Cause));
    s.press(KeyCode::F(8));
    s.press(KeyCode::F(12));
    assert_eq!(s.count("SELECT count(*) FROM units WHERE cause IS NULL AND outcome = 'refuse'"), 1);
    // After-sales registers the return late: the customer said we sent the wrong item.
    import_late_return(dir.path(), &db, "SKU-1005");
    assert_eq!(s.count("SELECT count(*) FROM units WHERE cause = 'WRONG-ITEM-SENT'"), 1);
    // The log holds the change: the chain still verifies.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let verdict = returns_dock::store::chain::verify(&conn).unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
}

/// A unit keyed in by its SKU (the label torn off) is exported with the product's barcode,
/// not with the SKU typed.
#[test]
fn a_unit_keyed_in_by_its_sku_keeps_the_products_barcode() {
    use returns_dock::export::{export, ExportOptions, Format, Span};
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0009");
    s.scan("sku-1005");
    assert!(band(&s).contains("Unit 1: SKU-1005 on RMA-2026-0009"), "{}", band(&s));
    s.press(KeyCode::F(2));
    s.press(KeyCode::F(8));
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T12:00:00+08:00").unwrap();
    let out = db.with_file_name("by-sku.csv");
    let mut store = returns_dock::store::Store::open(&db).unwrap();
    let opts =
        ExportOptions { format: Format::Csv, span: Span::SinceLast, excel: false, now, by: None, dock: None };
    export(&mut store, &out, &opts).unwrap();
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = header.iter().position(|h| h == "barcode").unwrap();
    let barcodes: Vec<String> = reader.records().map(|r| r.unwrap()[col].to_string()).collect();
    assert_eq!(barcodes.len(), 1);
    assert!(barcodes[0].contains("6901234500059"), "{barcodes:?}");
}

// ---------------------------------------------------------------------------------------------
// Outside attack (attack12): states and paths the walk above does not reach.
// ---------------------------------------------------------------------------------------------

/// After-sales registers the return of the unidentified parcel YT5555555555555 while it is
/// still open on the bench (an import runs whenever it runs): the customer says we sent the
/// wrong item.
fn import_late_return(dir: &std::path::Path, db: &std::path::Path, sku: &str) {
    let file = dir.join("late.csv");
    std::fs::write(
        &file,
        format!(
            "rma_no,order_no,tracking_no,sku,qty,reason\nRMA-LATE-1,WEB-1,YT5555555555555,{sku},1,发错货了\n"
        ),
    )
    .unwrap();
    let mut store = returns_dock::store::Store::open(db).unwrap();
    let opts = returns_dock::import::ImportOptions::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-22T09:00:30+08:00").unwrap(),
    );
    let report =
        returns_dock::import::returns::import(&mut store, &[returns_dock::import::Source::File(file)], &opts)
            .unwrap();
    assert_eq!(report.linked, 1, "{}", report.summary());
}

fn unit_row(s: &Station) -> String {
    s.exec
        .store
        .conn()
        .query_row(
            "SELECT outcome || '/' || coalesce(reason, '-') || '/' || coalesce(cause, 'NULL') FROM units",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

/// The unit was scanned while its parcel was unidentified; the link lands before the operator
/// gives the reason. The cause written is worked out on the screen's copy of the parcel, which
/// still has no return: FRAUD (the customer blamed) where the README's table says
/// WRONG-ITEM-SENT (the warehouse's error), because the customer said we sent the wrong item.
#[test]
fn a_reason_given_just_after_an_import_links_the_parcel_takes_the_customers_word() {
    let (dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("YT5555555555555");
    s.press(KeyCode::F(11));
    s.scan("6901234500172");
    import_late_return(dir.path(), &db, "SKU-1017");
    s.press(KeyCode::F(7));
    s.scan("CMD-REASON-WRONG-ITEM");
    assert!(s.screen().contains("RMA-LATE-1"), "the parcel is linked: {}", s.screen());
    assert_eq!(unit_row(&s), "refuse/WRONG-ITEM/WRONG-ITEM-SENT", "{}", band(&s));
    assert!(!band(&s).contains("Fraud"), "{}", band(&s));
}

/// A correction made before the link, taken back after it: the outcome restored carries the
/// cause the station worked out while the parcel had no return (FRAUD, kept in the unit's
/// steps), not the one the link gives (WRONG-ITEM-SENT).
#[test]
fn undoing_a_correction_after_the_link_gives_the_linked_cause() {
    let (dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("YT5555555555555");
    s.press(KeyCode::F(11));
    s.scan("6901234500172");
    s.press(KeyCode::F(7));
    s.scan("CMD-REASON-WRONG-ITEM");
    assert_eq!(unit_row(&s), "refuse/WRONG-ITEM/NULL", "no cause before the link");
    // A correction: scrap, used.
    s.press(KeyCode::Up);
    s.press(KeyCode::F(5));
    s.scan("CMD-REASON-USED");
    import_late_return(dir.path(), &db, "SKU-1017");
    assert_eq!(unit_row(&s), "scrap/USED/CHANGED-MIND", "the link gives the cause");
    s.press(KeyCode::F(9));
    assert!(band(&s).contains("Scrap taken back, Refuse → REFUSED-HOLD again"), "{}", band(&s));
    assert_eq!(unit_row(&s), "refuse/WRONG-ITEM/WRONG-ITEM-SENT", "the customer said we sent the wrong item");
}

/// A label jams while the operator is already in the next unit's reason prompt: ^P (or
/// CMD-REPRINT) is refused there with "No inspected unit to print a label for yet", which is
/// false (unit 1 was just accepted and labelled). Before the split into screens a reprint
/// worked in any prompt.
#[test]
fn reprint_in_a_prompt_never_says_there_is_nothing_to_reprint() {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0002");
    s.scan("6901234500035");
    s.press(KeyCode::F(2));
    assert!(s.app.can_reprint());
    s.scan("6901234500011");
    s.scan("RB5-0000123");
    s.press(KeyCode::F(7));
    for (stop, key) in [("reason", None), ("note", Some("CMD-REASON-OTHER"))] {
        if let Some(k) = key {
            s.scan(k);
        }
        s.scan("CMD-REPRINT");
        let said = band(&s);
        assert!(!said.contains("No inspected unit to print a label for yet"), "{stop}: {said}");
    }
}

/// Unit 1 accepted (its label printed), then taken back twice: its outcome, then the unit
/// itself. The footer still shows ^P; pressed, it says no printer is set up, though one is.
#[test]
fn after_the_unit_is_taken_off_reprint_is_not_offered_and_never_blames_the_printer() {
    use returns_dock::labels::{printer::Printer, zpl::LabelSize};
    let (_dir, db) = demo_db();
    let printer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = printer.local_addr().unwrap();
    std::thread::spawn(move || {
        for c in printer.incoming() {
            let mut c = c.unwrap();
            let _ = std::io::copy(&mut c, &mut std::io::sink());
        }
    });
    let mut s = Station::open(&db, "ST01", Lang::En);
    let mut t = chrono::DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
    s.exec = returns_dock::station::exec::Executor::new(
        returns_dock::store::Store::open(&db).unwrap(),
        "ST01",
        Box::new(move || {
            t += chrono::Duration::seconds(1);
            t
        }),
    )
    .with_printer(
        Printer::Tcp(addr.to_string()),
        LabelSize::default(),
        std::time::Duration::from_millis(100),
    );
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0009");
    s.scan("6901234500059");
    s.press(KeyCode::F(2));
    s.press(KeyCode::F(9));
    s.press(KeyCode::F(9));
    assert!(band(&s).contains("taken off the parcel"), "{}", band(&s));
    assert_eq!(s.count("SELECT count(*) FROM units"), 0);
    s.ctrl('p');
    let said = band(&s);
    assert!(!said.contains("No label printer is set up"), "a printer is set up: {said}");
    assert!(
        !s.app.takes(Action::Command(returns_dock::domain::scan::Command::Reprint)),
        "nothing to reprint"
    );
}

/// ^K on a parcel no return claims is refused, rightly, but with "Scan a unit first, then its
/// outcome" while the unit is on screen with its outcome: the operator scans it again.
#[test]
fn cause_on_an_unlinked_parcel_says_why_it_is_refused() {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("YT5555555555555");
    s.press(KeyCode::F(11));
    s.scan("6901234500172");
    s.press(KeyCode::F(2));
    s.ctrl('k');
    let said = band(&s);
    assert!(said.contains("✖ ERROR"), "{said}");
    assert!(!said.contains("Scan a unit first"), "the unit is scanned and has its outcome: {said}");
}

/// The review queue emptied (the last entry decided): the prompt still says "↑↓ choose ·
/// CONFIRM (F12) confirms · an outcome key overturns to it", and each of those keys is then
/// refused.
#[test]
fn an_empty_review_queue_does_not_tell_of_keys_it_refuses() {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0002");
    s.press(KeyCode::F(8));
    s.press(KeyCode::F(12));
    let mut sup = Station::open(&db, "ST02", Lang::En);
    sup.scan("OP-SUP1");
    sup.ctrl('r');
    sup.scan("2468");
    sup.press(KeyCode::F(12));
    let screen = sup.screen();
    assert!(screen.contains("Nothing waits for review"), "{screen}");
    assert!(!sup.app.takes(Action::Command(returns_dock::domain::scan::Command::Confirm)));
    let prompt = screen.lines().rev().nth(2).unwrap_or_default();
    assert!(!prompt.contains("F12"), "F12 is refused here: {prompt}");
    assert!(!prompt.contains("↑↓"), "the arrows do nothing here: {prompt}");
}

/// CONFIRM pressed by habit after a clean signature (F8 signed at once) leaves the band saying
/// the parcel was signed, instead of an error that hides it.
#[test]
fn confirm_by_habit_after_a_clean_signature_keeps_the_signed_band() {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0009");
    s.scan("6901234500059");
    s.press(KeyCode::F(2));
    s.press(KeyCode::F(8));
    s.press(KeyCode::F(12));
    assert!(band(&s).contains("Parcel P1 signed"), "{}", band(&s));
    assert_eq!(s.count("SELECT count(*) FROM parcels WHERE state = 'signed'"), 1);
}

/// A scanner's burst that ends on a refusal still says the first refusal of the burst: the
/// operator learns that the RMA scanned earlier in it was a duplicate.
#[test]
fn a_burst_ending_on_a_refusal_names_its_first_refusal_too() {
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0009");
    s.scan("6901234500059");
    s.press(KeyCode::F(2));
    s.press(KeyCode::F(8));
    // One burst: the same RMA again (a duplicate), then a command the dock does not take.
    let mut ev: Vec<_> = "RMA-2026-0009\rCMD-UNDO\r"
        .chars()
        .map(|c| {
            if c == '\r' {
                super::screen::key(KeyCode::Enter)
            } else {
                super::screen::key(KeyCode::Char(c))
            }
        })
        .collect();
    ev.push(super::screen::key(KeyCode::Enter));
    s.events(ev);
    let said = band(&s);
    assert!(said.contains("2 scans of this burst refused, the first: DUPLICATE"), "{said}");
}

/// Two docks on one database: each station's header names its dock, a parcel received at one
/// dock scanned at the other is a duplicate that says at which dock, and one open there is
/// said to be open at that dock's station (English and Chinese).
#[test]
fn a_parcel_received_at_another_dock_says_which_dock() {
    let (_dir, db) = demo_db();
    let at = |dock: &str, station: &str, lang: Lang| {
        let mut s = Station::open(&db, station, lang);
        s.app.dock_name = dock.into();
        s.exec.dock = dock.into();
        s.scan("OP-DEMO");
        s
    };
    let mut north = at("NORTH", "ST01", Lang::En);
    assert!(
        north.screen().lines().next().unwrap().contains("RETURNS DOCK · NORTH · ST01 · Demo Operator"),
        "{}",
        north.screen()
    );
    // A dock's name as long as the configuration allows, at 80 columns: cut, so that the
    // station, the operator and the open parcel stay in sight.
    let mut long = at("上海浦东新区外高桥保税物流园区退货中心二号月台", "ST04", Lang::Zh);
    long.scan("RMA-2026-0003");
    let header = long.screen().lines().next().unwrap().to_string();
    assert!(header.contains("…") && header.contains("ST04 · Demo Operator · P1 · 中文"), "{header}");
    long.scan("CMD-CANCEL");
    north.scan("RMA-2026-0009");
    north.scan("6901234500059");
    north.scan("CMD-ACCEPT");
    north.scan("CMD-SIGN");
    assert!(band(&north).contains("signed"), "{}", north.screen());
    north.scan("RMA-2026-0011");
    let mut south = at("SOUTH", "ST07", Lang::En);
    south.scan("RMA-2026-0011");
    assert!(band(&south).contains("open at station ST01 at dock NORTH"), "{}", south.screen());
    south.scan("RMA-2026-0009");
    assert!(
        band(&south).contains("DUPLICATE") && band(&south).contains("station ST01 at dock NORTH"),
        "{}",
        south.screen()
    );
    let mut zh = at("SOUTH", "ST08", Lang::Zh);
    zh.scan("RMA-2026-0009");
    assert!(band(&zh).contains("NORTH 仓的 ST01"), "{}", zh.screen());
    // At the same dock the dock goes unsaid.
    let mut also_north = at("NORTH", "ST02", Lang::En);
    also_north.scan("RMA-2026-0009");
    assert!(
        band(&also_north).contains("station ST01, by") && !band(&also_north).contains("dock NORTH"),
        "{}",
        also_north.screen()
    );
    // A refusal at NORTH, reviewed by a supervisor at SOUTH: the entry says where it was made.
    north.scan("CMD-REFUSE-PARCEL");
    north.scan("CMD-REASON-OUTSIDE-POLICY");
    let mut sup = at("SOUTH", "ST09", Lang::En);
    sup.scan("OP-SUP1");
    sup.ctrl('r');
    sup.scan("2468");
    assert!(sup.screen().contains("ST01 DEMO · at dock NORTH"), "{}", sup.screen());
    // The dashboard is the dock's own: NORTH's unit is not SOUTH's to act on.
    sup.press(KeyCode::Esc);
    sup.ctrl('d');
    assert!(sup.screen().contains("Today · 0 units · at dock SOUTH"), "{}", sup.screen());
    let mut sup_north = at("NORTH", "ST03", Lang::En);
    sup_north.scan("OP-SUP1");
    sup_north.ctrl('d');
    sup_north.scan("2468");
    assert!(sup_north.screen().contains("Today · 1 unit · at dock NORTH"), "{}", sup_north.screen());
}

/// Each outcome names where the unit goes, after what it is: the band and the record say the
/// same; a correction sends it elsewhere (a supplier's box under the catalog's supplier), undo
/// takes it back with the outcome, and the label prints it with the outcome.
#[test]
fn each_outcome_names_where_the_unit_goes() {
    use returns_dock::labels::zpl::{self, LabelSize, UnitLabel};
    let (_dir, db) = demo_db();
    let mut s = Station::open(&db, "ST01", Lang::En);
    s.scan("OP-DEMO");
    s.scan("RMA-2026-0009");
    s.scan("6901234500059");
    s.scan("CMD-ACCEPT");
    assert!(band(&s).contains("→ STOCK"), "{}", s.screen());
    // And in large type under the expected lines, for a step away.
    let big = returns_dock::station::big::lines("STOCK", 80).unwrap();
    assert!(big.iter().all(|row| s.screen().contains(row.as_str())), "{}", s.screen());
    let at =
        |s: &Station, to: &str| s.count(&format!("SELECT count(*) FROM units WHERE destination = '{to}'"));
    assert_eq!(at(&s, "STOCK"), 1);
    s.press(KeyCode::Up); // the unit to correct
    s.scan("CMD-RETURN-TO-SUPPLIER");
    s.scan("CMD-REASON-DEFECTIVE");
    assert!(band(&s).contains("→ RTV-广州衣品服饰"), "{}", s.screen());
    assert_eq!(at(&s, "RTV-广州衣品服饰"), 1);
    s.scan("CMD-UNDO");
    assert_eq!(at(&s, "STOCK"), 1, "undo takes the destination back with the outcome");
    assert!(band(&s).contains("Accept → STOCK"), "the band says where it goes again: {}", s.screen());
    s.press(KeyCode::Up);
    s.scan("CMD-SECOND-HAND-C");
    s.scan("CMD-REASON-USED");
    assert!(band(&s).contains("→ C-STOCK"), "{}", s.screen());
    let facts = returns_dock::store::station::unit_facts(s.exec.store.db(), 1).unwrap().unwrap();
    let label = zpl::unit_label(&UnitLabel::of(1, facts), LabelSize::default());
    assert!(label.contains("^FDSECOND-HAND C^FS") && label.contains("^FD-> C-STOCK^FS"), "{label}");
}
