//! Photos at the bench, through the real loop: a picture saved into the camera's folder goes to
//! the unit that was current when it appeared (not to the one scanned after it), is kept once
//! under its SHA-256, private, logged; anything that is not a picture is refused by its name and
//! left in the folder; a refusal that needs a photo is not signed without one.

use super::photos::jpeg;
use super::screen::{demo_db, key, Station};
use ratatui::crossterm::event::{Event, KeyCode};
use returns_dock::evidence::inbox::Inbox;
use returns_dock::station::text::Lang;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Saves `bytes` into the folder as a camera does: written under a passing name, then renamed.
pub(crate) fn drop_in(inbox: &Path, name: &str, bytes: &[u8]) {
    let part = inbox.join(format!("{name}.part"));
    std::fs::write(&part, bytes).unwrap();
    std::fs::rename(part, inbox.join(name)).unwrap();
}

/// A station with a camera folder (taken at once: the tests write whole files).
fn with_camera(db: &Path) -> (Station, PathBuf) {
    let mut s = Station::open(db, "ST01", Lang::En);
    let inbox = db.parent().unwrap().join("camera");
    std::fs::create_dir(&inbox).unwrap();
    s.exec.inbox = Some(Inbox::new(inbox.clone(), std::time::Duration::ZERO));
    s.app.photos_on = true;
    s.app.photos_dir = inbox.display().to_string();
    (s, inbox)
}

fn scan_events(codes: &[&str]) -> Vec<Event> {
    let mut ev = Vec::new();
    for c in codes {
        ev.extend(c.chars().map(|ch| key(KeyCode::Char(ch))));
        ev.push(key(KeyCode::Enter));
    }
    ev
}

/// The photos on record: (unit's number in its parcel, or None for the parcel's own, SHA-256).
fn photos(s: &Station) -> Vec<(Option<i64>, String)> {
    let conn = s.exec.store.conn();
    let mut q = conn
        .prepare("SELECT u.seq, f.sha256 FROM photos f LEFT JOIN units u ON u.id = f.unit_id ORDER BY f.id")
        .unwrap();
    q.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

fn band(s: &Station) -> String {
    s.screen().lines().skip(1).take(2).collect::<Vec<_>>().join(" ")
}

#[test]
fn a_photo_saved_during_a_refusal_goes_to_that_unit_not_the_next_one() {
    let (_dir, db) = demo_db();
    let (mut s, inbox) = with_camera(&db);
    s.scan("OP-DEMO");
    s.scan("DfH5sJ1qRMA"); // two phone cases
    s.scan("036000291452");
    s.press(KeyCode::F(7)); // refuse: the reason is asked for
    let first = jpeg(1);
    drop_in(&inbox, "IMG_0001.jpg", &first);
    // A tired operator's burst: the reason and the next unit in one read, right after the photo.
    s.events(scan_events(&["CMD-REASON-DEFECTIVE", "036000291452"]));
    let sha = returns_dock::evidence::picture::sha256_hex(&first);
    assert_eq!(photos(&s), vec![(Some(1), sha.clone())], "{}", s.screen());
    assert!(!inbox.join("IMG_0001.jpg").exists(), "moved out of the folder into the store");
    // Kept under its SHA-256 beside the database, private.
    let kept = returns_dock::store::photos::folder_of(&db).join(format!("{sha}.jpg"));
    assert_eq!(std::fs::read(&kept).unwrap(), first);
    assert_eq!(std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777, 0o600);
    // The next photo goes to the unit now current: the second.
    drop_in(&inbox, "IMG_0002.jpg", &jpeg(2));
    s.events(vec![]);
    assert_eq!(photos(&s).len(), 2);
    assert_eq!(photos(&s)[1].0, Some(2));
    assert!(band(&s).contains("📷 photo 1 attached to unit 2"), "{}", s.screen());
    assert!(s.screen().contains("📷1"), "the unit list counts them: {}", s.screen());
    // The log carries each, and the pictures check against their names.
    assert_eq!(s.count("SELECT count(*) FROM audit_log WHERE action = 'photo'"), 2);
    let v = s.exec.store.verify_audit().unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.photos, 2);
}

#[test]
fn the_same_picture_twice_is_kept_once_and_a_file_that_is_no_picture_stays_in_the_folder() {
    let (_dir, db) = demo_db();
    let (mut s, inbox) = with_camera(&db);
    s.scan("OP-DEMO");
    s.scan("DfH5sJ1qRMA");
    s.scan("036000291452");
    let pic = jpeg(7);
    drop_in(&inbox, "IMG_0100.jpg", &pic);
    s.events(vec![]);
    // The phone's sync sends it again under another name.
    drop_in(&inbox, "IMG_0100 (1).jpg", &pic);
    s.events(vec![]);
    assert!(band(&s).contains("already attached to unit 1"), "{}", s.screen());
    assert_eq!(photos(&s).len(), 1);
    assert_eq!(s.count("SELECT count(*) FROM pictures"), 1);
    // The same picture of the second unit: one more attachment, still one picture.
    s.scan("036000291452");
    drop_in(&inbox, "IMG_0100 (2).jpg", &pic);
    s.events(vec![]);
    assert_eq!(photos(&s).iter().map(|p| p.0).collect::<Vec<_>>(), vec![Some(1), Some(2)]);
    assert_eq!(s.count("SELECT count(*) FROM pictures"), 1);
    let folder = returns_dock::store::photos::folder_of(&db);
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1, "one file for one picture");
    // Not a picture, and a picture cut short: refused by name, left alone, said once.
    drop_in(&inbox, "notes.txt", b"customer says it was fine");
    s.events(vec![]);
    assert!(
        band(&s).contains("notes.txt not taken: not a JPEG or PNG picture; it stays in the camera folder"),
        "{}",
        s.screen()
    );
    assert!(inbox.join("notes.txt").exists());
    // A picture not whole is given time (a slow camera), then said when asked for.
    let half = &jpeg(9)[..300];
    drop_in(&inbox, "IMG_0200.jpg", half);
    s.events(vec![]);
    assert!(!band(&s).contains("IMG_0200"), "{}", s.screen());
    s.scan("CMD-PHOTO");
    assert!(band(&s).contains("IMG_0200.jpg not taken: not a whole JPEG picture"), "{}", s.screen());
    s.scan("CMD-ACCEPT");
    s.events(vec![]);
    assert!(!band(&s).contains("not taken"), "a refused file is said once, not at every look: {}", band(&s));
    assert_eq!(photos(&s).len(), 2);
}

#[test]
fn a_refusal_that_needs_a_photo_is_not_signed_without_one() {
    let (_dir, db) = demo_db();
    let (mut s, inbox) = with_camera(&db);
    let policy = returns_dock::store::station::Policy {
        photos: returns_dock::store::station::PhotosRequired::from_words(["refuse", "refuse_parcel"])
            .unwrap(),
        ..Default::default()
    };
    s.app.policy = policy;
    s.exec.policy = policy;
    s.scan("OP-DEMO");
    s.scan("DfH5sJ1qRMA");
    s.scan("036000291452");
    s.scan("CMD-ACCEPT");
    s.scan("036000291452");
    s.press(KeyCode::F(7));
    s.scan("CMD-REASON-CUSTOMER-DAMAGE");
    // On to the next unit's place before the photo: the list is selected away from unit 2.
    s.press(KeyCode::Down);
    s.press(KeyCode::F(8));
    assert!(band(&s).contains("needs a photo before signing"), "{}", s.screen());
    assert_eq!(s.count("SELECT count(*) FROM parcels WHERE state = 'open'"), 1);
    // The store refuses too, whatever the screen did.
    let a = returns_dock::store::station::Actor {
        station: "ST01".into(),
        dock: String::new(),
        user: "DEMO".into(),
        now: chrono::Local::now().fixed_offset(),
    };
    let parcel: i64 = s.count("SELECT id FROM parcels");
    let signed =
        returns_dock::store::station::sign_parcel_with(s.exec.store.db(), &a, parcel, true, &policy).unwrap();
    assert!(
        matches!(signed, Err(returns_dock::store::station::Refusal::PhotoNeeded(ref u)) if !u.is_empty()),
        "{signed:?}"
    );
    // The refused unit was selected: its photo, then the parcel signs.
    drop_in(&inbox, "IMG_0300.jpg", &jpeg(3));
    s.events(vec![]);
    assert!(band(&s).contains("photo 1 attached to unit 2"), "{}", s.screen());
    s.press(KeyCode::F(8));
    s.press(KeyCode::F(12));
    assert_eq!(s.count("SELECT count(*) FROM parcels WHERE state = 'signed'"), 1, "{}", s.screen());
}

#[test]
fn cmd_photo_takes_what_is_in_the_folder_and_says_when_there_is_nothing() {
    let (_dir, db) = demo_db();
    let (mut s, inbox) = with_camera(&db);
    s.scan("OP-DEMO");
    // A picture that came while no parcel was open waits in the folder.
    drop_in(&inbox, "IMG_0400.jpg", &jpeg(4));
    s.events(vec![]);
    assert!(band(&s).contains("IMG_0400.jpg waits in the camera folder"), "{}", s.screen());
    s.scan("DfH5sJ1qRMA");
    s.events(vec![]);
    assert_eq!(photos(&s).len(), 0, "not given to a parcel opened after it came");
    s.scan("CMD-PHOTO");
    assert_eq!(photos(&s), vec![(None, returns_dock::evidence::picture::sha256_hex(&jpeg(4)))]);
    assert!(band(&s).contains("photo 1 attached to the parcel"), "{}", s.screen());
    s.scan("CMD-PHOTO");
    assert!(band(&s).contains("No photo in the camera folder"), "{}", s.screen());
}

#[test]
fn the_supervisor_sees_the_photo_count_and_the_photo_itself_in_the_review_queue() {
    let (_dir, db) = demo_db();
    let (mut s, inbox) = with_camera(&db);
    s.scan("OP-DEMO");
    s.scan("DfH5sJ1qRMA");
    s.scan("036000291452");
    s.press(KeyCode::F(7));
    drop_in(&inbox, "IMG_0500.jpg", &jpeg(5));
    s.scan("CMD-REASON-DEFECTIVE");
    s.scan("036000291452");
    s.scan("CMD-ACCEPT");
    s.press(KeyCode::F(8));
    s.press(KeyCode::F(12));
    assert_eq!(s.count("SELECT count(*) FROM parcels WHERE state = 'signed'"), 1, "{}", s.screen());
    // At another station, the supervisor's queue.
    let mut sup = Station::open(&db, "ST02", Lang::En);
    sup.terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    sup.scan("OP-SUP1");
    sup.ctrl('r');
    sup.scan("2468");
    let queue = sup.screen();
    let entry = sup.app.clone();
    let returns_dock::station::app::Screen::Review(r) = &entry.screen else { panic!("{queue}") };
    let refused = r.items.iter().position(|i| i.unit_id.is_some()).expect("the refused unit's entry");
    assert_eq!(r.items[refused].photos, 1, "{queue}");
    while matches!(&sup.app.screen, returns_dock::station::app::Screen::Review(r) if r.selected != refused) {
        sup.press(KeyCode::Down);
    }
    assert!(sup.screen().contains("📷 1 (^T shows)"), "{}", sup.screen());
    sup.ctrl('t');
    let shown = sup.screen();
    assert!(shown.contains("📷 photo 1 of 1") && shown.contains("IMG_0500.jpg"), "{shown}");
    assert!(shown.matches('▀').count() > 200, "the picture is drawn: {shown}");
    sup.press(KeyCode::Esc);
    assert!(!sup.screen().contains('▀'), "Esc leaves the photo: {}", sup.screen());
}

/// The real program at a real terminal: its own umask (files 0600), its own settling time, its
/// own look at the folder while nobody types.
#[test]
fn the_real_station_takes_a_photo_into_a_private_store() {
    let (dir, db) = demo_db();
    let inbox = dir.path().join("camera");
    std::fs::write(
        dir.path().join("returns-dock.toml"),
        format!("[photos]\ninbox = \"{}\"\nsettle_ms = 200\n", inbox.display()),
    )
    .unwrap();
    let mut s = super::pty::Pty::start(&db, "ST01");
    assert!(s.wait_for("Scan your badge", std::time::Duration::from_secs(20)), "{}", s.contents());
    assert!(inbox.is_dir(), "the folder is made when it is missing");
    s.step("OP-DEMO");
    s.step("DfH5sJ1qRMA");
    s.step("036000291452");
    drop_in(&inbox, "IMG_0600.jpg", &jpeg(6));
    // Nobody types: the station looks at the folder on its own.
    assert!(s.wait_for("photo 1 attached to unit 1", std::time::Duration::from_secs(20)), "{}", s.contents());
    let folder = returns_dock::store::photos::folder_of(&db);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700, "the owner may enter the folder, nobody else may");
    let kept = std::fs::read_dir(&folder).unwrap().next().unwrap().unwrap().path();
    assert_eq!(mode(&kept), 0o600);
    assert_eq!(std::fs::read(&kept).unwrap(), jpeg(6));
    assert_eq!(mode(&inbox), 0o700);
    // A second station given the same folder is refused at start: each would take what
    // appears there for its own unit.
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
        .current_dir(dir.path())
        .args(["--db", db.to_str().unwrap(), "station", "--station", "ST02"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(3), "{err}");
    assert!(err.contains("another running station takes from this folder"), "{err}");
    s.kill_hard();
}
