//! Every word the station shows, in English and Chinese, in one place. Screens ask for a
//! [`T`] entry or call one of the functions below; nothing else holds display text.

pub use crate::domain::codes::Lang;

/// Fixed texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T {
    Title,
    SignInPrompt,
    SignInHint,
    DockPrompt,
    DockHint,
    UnitPrompt,
    AllInspectedPrompt,
    UnitHint,
    SerialPrompt,
    ReasonPrompt,
    NotePrompt,
    CausePrompt,
    SignPrompt,
    DemoTry,
    DemoSerial,
    DemoBadges,
    LastBoxPrompt,
    SignClean,
    RefuseParcelPrompt,
    UnknownParcelHint,
    PinPrompt,
    ReviewHint,
    ReviewLinkHint,
    ReviewEmpty,
    Today,
    Week,
    Turnaround,
    Late,
    TakeOverHint,
    OrderHint,
    OrderReturns,
    Expected,
    Scanned,
    Inspected,
    Units,
    Discrepancies,
    ShiftCounts,
    LastParcels,
    Queues,
    Help,
    HelpClose,
    Ok,
    Warning,
    Error,
    Saved,
    NothingYet,
    Typing,
    Missing,
    Uninspected,
    HelpNow,
    HelpElsewhere,
    ReviewConfirmHint,
    ReviewEmptyHint,
}

pub fn t(lang: Lang, key: T) -> &'static str {
    use T::*;
    let (en, zh) = match key {
        Title => ("RETURNS DOCK", "退货验收台"),
        SignInPrompt => ("Scan your badge to sign in", "请扫描工牌登录"),
        SignInHint => ("or type your user id and press Enter", "或输入工号后按回车"),
        DockPrompt => ("Scan a parcel", "请扫描包裹"),
        DockHint => ("tracking number, RMA label or order number", "物流单号、退货标签或订单号"),
        UnitPrompt => {
            ("Scan a unit, or an outcome for the unit marked ▶", "请扫描商品，或为 ▶ 所指商品扫描处理结果")
        }
        AllInspectedPrompt => (
            "Every unit has an outcome: scan SIGN (F8), or the next unit",
            "所有商品都已有处理结果：请扫描签收 (F8) 或下一件商品",
        ),
        UnitHint => (
            "when the box is empty: sign (F8) or refuse the parcel (F10)",
            "箱内商品全部扫描后：签收 (F8) 或拒收包裹 (F10)",
        ),
        SerialPrompt => ("Scan the serial number of this unit", "请扫描该商品的序列号"),
        ReasonPrompt => {
            ("Scan a reason (or type its number and Enter)", "请扫描原因条码（或输入编号后按回车）")
        }
        NotePrompt => ("Type a note and press Enter", "请输入备注后按回车"),
        CausePrompt => ("Why did it come back? Type the number and Enter", "退货原因归属？输入编号后按回车"),
        SignPrompt => (
            "Check before signing: scan CONFIRM (F12) to sign with these, CANCEL (Esc) to go back",
            "签收前请核对：扫描“确认”(F12) 带差异签收，“取消”(Esc) 返回",
        ),
        DemoTry => ("Try (demo): an RMA, its units", "试一试（演示）：退货单号与商品"),
        DemoSerial => (" + any serial", " + 任意序列号"),
        DemoBadges => (
            "Demo badges: OP-DEMO (operator) · OP-SUP1 (supervisor, PIN 2468)",
            "演示工牌：OP-DEMO（操作员）· OP-SUP1（主管，PIN 2468）",
        ),
        LastBoxPrompt => (
            "Last box? CONFIRM (F12) = the rest is missing · SIGN (F8) = more boxes to come",
            "最后一箱？“确认”(F12) = 其余记为缺少 · 再按“签收”(F8) = 还有箱子未到",
        ),
        SignClean => ("Nothing missing or wrong: scan CONFIRM (F12) to sign", "无差异：扫描“确认”(F12) 签收"),
        RefuseParcelPrompt => ("Refuse the whole parcel: scan the reason", "拒收整个包裹：请扫描原因"),
        UnknownParcelHint => (
            "scan UNIDENTIFIED (F11) to book it in anyway, or scan another parcel",
            "扫描“无主件”(F11) 仍然收货，或扫描其他包裹",
        ),
        OrderReturns => ("The order's returns (RMA · tracking)", "该订单的退货（退货单号 · 运单号）"),
        OrderHint => (
            "scan the box's tracking number or RMA, or choose with ↑/↓ and Enter",
            "扫描本包裹的运单号或退货单号，或用 ↑/↓ 选择后回车",
        ),
        TakeOverHint => (
            "scan CONFIRM (F12) to take the parcel over, CANCEL (Esc) to leave it",
            "扫描“确认”(F12) 接管包裹，“取消”(Esc) 放弃",
        ),
        PinPrompt => ("Supervisor: type your PIN and press Enter", "主管：请输入 PIN 后按回车"),
        ReviewHint => (
            "↑↓ choose · CONFIRM (F12) confirms · an outcome key overturns to it, then type why",
            "↑↓ 选择 · “确认”(F12) 维持 · 按处理结果键改判，再输入原因",
        ),
        ReviewLinkHint => (
            "Scan or type this parcel's RMA to link it · F12 leaves it unlinked",
            "扫描或输入该包裹的退货单号以关联 · F12 保持无主",
        ),
        ReviewEmpty => ("Nothing waits for review", "暂无待复核"),
        Today => ("Today", "今日"),
        Turnaround => ("First box to the return's close, last 7 days", "近 7 天首箱到货至退货完结"),
        Late => ("Waiting over", "超时未签收，超过"),
        Week => ("Last 7 days", "近 7 天"),
        Expected => ("expected", "应收"),
        Scanned => ("scanned", "已扫"),
        Inspected => ("inspected", "已验"),
        Units => ("Units in this parcel", "本包裹商品"),
        Discrepancies => ("Discrepancies", "差异"),
        ShiftCounts => ("This shift", "本班次"),
        LastParcels => ("Last parcels", "最近包裹"),
        Queues => ("Waiting", "待处理"),
        Help => ("Keys and commands", "按键与指令"),
        HelpClose => ("any key closes this help", "按任意键关闭帮助"),
        Ok => ("OK", "成功"),
        Warning => ("CHECK", "注意"),
        Error => ("ERROR", "错误"),
        Saved => ("saved", "已保存"),
        NothingYet => ("nothing yet", "暂无"),
        Typing => ("typed", "输入"),
        Missing => ("missing", "缺少"),
        Uninspected => ("not inspected", "未验货"),
        HelpNow => ("Here, now:", "当前可用："),
        HelpElsewhere => ("On other screens:", "其他界面："),
        ReviewEmptyHint => ("Nothing to decide: Esc goes back to the dock", "暂无待复核：按 Esc 返回"),
        ReviewConfirmHint => (
            "↑↓ choose · CONFIRM (F12) confirms the parcel's review",
            "↑↓ 选择 · “确认”(F12) 完成该包裹的复核",
        ),
    };
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// Texts with values in them.
pub mod say {
    use super::Lang;
    use crate::domain::codes::ParcelState;

    fn pick(lang: Lang, en: String, zh: String) -> String {
        match lang {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    pub fn signed_in(lang: Lang, name: &str, supervisor: bool) -> String {
        let en =
            if supervisor { format!("Signed in: {name} (supervisor)") } else { format!("Signed in: {name}") };
        let zh = if supervisor {
            format!("已登录：{name}（主管）")
        } else {
            format!("已登录：{name}")
        };
        pick(lang, en, zh)
    }

    pub fn unknown_user(lang: Lang, id: &str) -> String {
        pick(
            lang,
            format!("No user {id}: check the badge or the id"),
            format!("无此用户 {id}：请检查工牌或工号"),
        )
    }

    pub fn parcel_opened(lang: Lang, rmas: &str) -> String {
        pick(lang, format!("Parcel received for {rmas}"), format!("已收包裹：{rmas}"))
    }

    pub fn parcel_resumed(lang: Lang, id: i64) -> String {
        pick(lang, format!("Parcel P{id} resumed where it was"), format!("继续处理包裹 P{id}"))
    }

    pub fn duplicate(lang: Lang, state: &str, at: &str, station: &str, operator: &str) -> String {
        pick(
            lang,
            format!("DUPLICATE: already received and {state} at {at}, station {station}, by {operator}"),
            format!("重复扫描：该包裹已于 {at} 在 {station} 由 {operator} 收货（{state}）"),
        )
    }

    pub fn open_elsewhere(lang: Lang, station: &str, operator: &str) -> String {
        pick(
            lang,
            format!("This parcel is open at station {station} ({operator}); a supervisor can take it over"),
            format!("该包裹正在 {station} 处理（{operator}），主管可接管"),
        )
    }

    pub fn parcel_not_found(lang: Lang, scan: &str) -> String {
        pick(
            lang,
            format!("NO MATCH for {scan}: no expected return has this number"),
            format!("未匹配：{scan} 无对应售后单"),
        )
    }

    pub fn unidentified_booked(lang: Lang, id: i64) -> String {
        pick(
            lang,
            format!("Booked in as unidentified parcel P{id}: scan its units"),
            format!("已登记为无主件 P{id}：请扫描箱内商品"),
        )
    }

    pub fn unit_ok(lang: Lang, seq: i64, sku: &str, rma: &str) -> String {
        pick(
            lang,
            format!("Unit {seq}: {sku} on {rma}; now scan its outcome"),
            format!("商品 {seq}：{sku}（{rma}）；请扫描处理结果"),
        )
    }

    pub fn unit_flagged(lang: Lang, seq: i64, sku: &str, flag: &str) -> String {
        pick(
            lang,
            format!("Unit {seq}: {sku} is {flag}; recorded and flagged, now scan its outcome"),
            format!("商品 {seq}：{sku} {flag}，已记录并标记；请扫描处理结果"),
        )
    }

    pub fn serial_is_a_barcode(lang: Lang, sku: &str) -> String {
        pick(
            lang,
            format!("That is the barcode of {sku}, not a serial number: nothing recorded; scan the unit again, then its serial label"),
            format!("这是 {sku} 的商品条码，不是序列号：未记录；请重新扫描商品，再扫描序列号标签"),
        )
    }

    pub fn serial_in_earlier_box(lang: Lang, serial: &str, parcel: i64) -> String {
        pick(
            lang,
            format!("Serial {serial} came in an earlier box of this return (P{parcel}): nothing recorded"),
            format!("序列号 {serial} 已在该退货的前一箱 (P{parcel}) 收到：未重复记录"),
        )
    }

    pub fn serial_twice(lang: Lang, serial: &str, seq: i64) -> String {
        pick(
            lang,
            format!("Serial {serial} was already scanned as unit {seq}: nothing recorded"),
            format!("序列号 {serial} 已作为商品 {seq} 扫描过：未重复记录"),
        )
    }

    pub fn unknown_product(lang: Lang, code: &str) -> String {
        pick(
            lang,
            format!(
                "Unknown product code {code}: nothing recorded (type the SKU if the label is unreadable)"
            ),
            format!("未知商品条码 {code}：未记录（条码无法识别时请输入商家编码）"),
        )
    }

    pub fn bad_check_digit(lang: Lang, code: &str, expected: u8) -> String {
        pick(
            lang,
            format!("Bad check digit in {code} (the last digit should be {expected}): rescan"),
            format!("{code} 校验位错误（末位应为 {expected}）：请重新扫描"),
        )
    }

    pub fn not_ascii(lang: Lang) -> String {
        pick(
            lang,
            "The scan has non-ASCII characters: switch off the Chinese input method".into(),
            "扫描内容含非英文字符：请关闭中文输入法".into(),
        )
    }

    pub fn unknown_command(lang: Lang, code: &str) -> String {
        pick(lang, format!("Unknown command {code}"), format!("未知指令 {code}"))
    }

    pub fn not_now(lang: Lang, what: &str) -> String {
        pick(lang, format!("{what} cannot be used here"), format!("此处不能使用“{what}”"))
    }

    pub fn no_unit(lang: Lang) -> String {
        pick(lang, "Scan a unit first, then its outcome".into(), "请先扫描商品，再扫描处理结果".into())
    }

    pub fn inspected(lang: Lang, seq: i64, outcome: &str) -> String {
        pick(lang, format!("Unit {seq}: {outcome}"), format!("商品 {seq}：{outcome}"))
    }

    pub fn undone(lang: Lang, what: &str) -> String {
        pick(lang, format!("Undone: {what}"), format!("已撤销：{what}"))
    }

    /// Undo took a unit's scan back.
    pub fn undone_box(lang: Lang, seq: i64, sku: &str) -> String {
        pick(
            lang,
            format!("Undone: the last box of unit {seq} ({sku}) taken back"),
            format!("已撤销：商品 {seq}（{sku}）的最后一箱已取消"),
        )
    }

    pub fn undone_unit(lang: Lang, seq: i64, sku: &str) -> String {
        pick(
            lang,
            format!("Undone: unit {seq} ({sku}) taken off the parcel"),
            format!("已撤销：商品 {seq}（{sku}）已从包裹移除"),
        )
    }

    /// Undo took a unit's outcome back; `now` is what the unit has again, if anything.
    pub fn undone_outcome(lang: Lang, seq: i64, sku: &str, taken: &str, now: Option<&str>) -> String {
        match now {
            Some(n) => pick(
                lang,
                format!("Undone: unit {seq} ({sku}) {taken} taken back, {n} again"),
                format!("已撤销：商品 {seq}（{sku}）的「{taken}」，恢复为「{n}」"),
            ),
            None => pick(
                lang,
                format!("Undone: unit {seq} ({sku}) {taken} taken back, no outcome now"),
                format!("已撤销：商品 {seq}（{sku}）的「{taken}」，现无处理结果"),
            ),
        }
    }

    /// A correction: the unit had another outcome, which the history keeps.
    pub fn corrected(lang: Lang, seq: i64, was: &str, now: &str) -> String {
        pick(
            lang,
            format!("Unit {seq} corrected: {was} → {now} (the first is kept in its history)"),
            format!("商品 {seq} 已更正：{was} → {now}（原结果保留在记录中）"),
        )
    }

    /// The parcel's discrepancies changed while it was on screen (linked to an RMA meanwhile).
    pub fn parcel_changed(lang: Lang) -> String {
        pick(
            lang,
            "The parcel changed meanwhile (linked to its RMA): check what is shown now, then sign".into(),
            "包裹信息已更新（已关联售后单）：请核对当前显示的内容后再签收".into(),
        )
    }

    /// Every unit of the parcel has an outcome: an outcome scan has nowhere to go.
    pub fn all_inspected(lang: Lang) -> String {
        pick(
            lang,
            "Every unit has an outcome: scan a unit, or SIGN (F8); ↑/↓ selects a unit to correct".into(),
            "所有商品都已有处理结果：请扫描商品或签收 (F8)；↑/↓ 选择要更正的商品".into(),
        )
    }

    /// Scans of one burst were refused before the scan the band shows.
    pub fn refused_in_burst(lang: Lang, n: usize, first: &str) -> String {
        pick(
            lang,
            format!("{} of this burst refused, the first: {first}", plural(n, "scan", "scans")),
            format!("本批扫描中有 {n} 次被拒绝，第一次：{first}"),
        )
    }

    /// The same code again within the double-read window: the scanner read it twice.
    pub fn double_read(lang: Lang, code: &str, ms: u128) -> String {
        pick(
            lang,
            format!("{code} read twice within {ms} ms: the second read ignored"),
            format!("{code} 在 {ms} 毫秒内重复读取：已忽略第二次"),
        )
    }

    pub fn signed(lang: Lang, id: i64, n: usize) -> String {
        if n == 0 {
            pick(lang, format!("Parcel P{id} signed"), format!("包裹 P{id} 已签收"))
        } else {
            pick(
                lang,
                format!(
                    "Parcel P{id} signed with {}: sent to the supervisor",
                    plural(n, "discrepancy", "discrepancies")
                ),
                format!("包裹 P{id} 已带 {n} 项差异签收：已转主管复核"),
            )
        }
    }

    /// A box signed while its return awaits more: `awaited` is (RMA, units still to come).
    pub fn box_signed(lang: Lang, id: i64, n: usize, awaited: &[(String, i64)], days: u32) -> String {
        let en: Vec<String> = awaited.iter().map(|(rma, q)| format!("{rma} awaits {q} more")).collect();
        let zh: Vec<String> = awaited.iter().map(|(rma, q)| format!("{rma} 还有 {q} 件未到")).collect();
        let (en_d, zh_d) = match n {
            0 => (String::new(), String::new()),
            n => (
                format!(" with {} (to the supervisor)", plural(n, "discrepancy", "discrepancies")),
                format!("（{n} 项差异，已转主管）"),
            ),
        };
        pick(
            lang,
            format!(
                "Box P{id} signed{en_d}; {}: more boxes to come (missing if none in {days} days)",
                en.join(", ")
            ),
            format!("包裹 P{id} 已签收{zh_d}；{}：等待后续箱子（{days} 天内未到记为缺少）", zh.join("，")),
        )
    }

    /// A later box of a return opened.
    pub fn later_box(lang: Lang, rma: &str, box_no: i64, awaited: i64) -> String {
        pick(
            lang,
            format!("Box {box_no} of {rma}: {awaited} unit{} awaited", if awaited == 1 { "" } else { "s" }),
            format!("{rma} 第 {box_no} 箱：还有 {awaited} 件未到"),
        )
    }

    /// The same box scanned again while its return awaits others.
    pub fn another_box(lang: Lang, rma: &str) -> String {
        pick(
            lang,
            format!("another box of {rma}? scan its RMA number"),
            format!("如是 {rma} 的另一箱，请扫描退货单号"),
        )
    }

    /// How many of a unit's boxes arrived.
    pub fn box_of(lang: Lang, have: i64, of: i64) -> String {
        pick(lang, format!("box {have} of {of}"), format!("第 {have}/{of} 箱"))
    }

    /// A unit whose boxes have not all arrived, before signing.
    pub fn incomplete_unit(lang: Lang, seq: i64, sku: &str, have: i64, of: i64) -> String {
        pick(
            lang,
            format!("Unit {seq} {sku}: {have} of {of} boxes; the rest awaited, or refuse it if this is the last box"),
            format!("商品 {seq} {sku}：已到 {have}/{of} 箱；其余待到，如为最后一箱请拒收"),
        )
    }

    /// A box added to a unit of a product in several boxes.
    pub fn box_added(lang: Lang, seq: i64, sku: &str, have: i64, of: i64) -> String {
        if have < of {
            pick(
                lang,
                format!("Unit {seq} {sku}: box {have} of {of}; scan its other boxes"),
                format!("商品 {seq} {sku}：第 {have}/{of} 箱；请扫描其余箱"),
            )
        } else {
            pick(
                lang,
                format!("Unit {seq} {sku}: box {have} of {of}, complete: scan its outcome"),
                format!("商品 {seq} {sku}：第 {have}/{of} 箱，已齐：请扫描处理结果"),
            )
        }
    }

    /// An outcome that needs every box, given to a unit still missing some.
    pub fn needs_every_box(lang: Lang, seq: i64, have: i64, of: i64) -> String {
        pick(
            lang,
            format!("Unit {seq} has {have} of {of} boxes: accept needs every box (refuse it, or second-hand with MISSING-PARTS)"),
            format!("商品 {seq} 仅到 {have}/{of} 箱：良品需全部到齐（可拒收，或二手并选“配件/包装缺失”）"),
        )
    }

    /// The last box said while units still miss boxes.
    pub fn units_incomplete(lang: Lang, n: usize) -> String {
        pick(
            lang,
            format!("{} boxes: give them an outcome (refuse, or second-hand with MISSING-PARTS), or SIGN (F8) = more boxes to come", plural(n, "unit misses", "units miss")),
            format!("{n} 件商品缺箱：请先处理（拒收，或二手并选“配件/包装缺失”），或再按“签收”(F8) = 还有箱子未到"),
        )
    }

    /// The policy wants a photo before signing (of these units) or refusing (of the parcel).
    pub fn photo_needed(lang: Lang, units: &[i64]) -> String {
        let list = units.iter().map(|u| u.to_string()).collect::<Vec<_>>().join(", ");
        match units.len() {
            0 => pick(
                lang,
                "A refused parcel needs a photo first: take one (it attaches itself), or CMD-PHOTO (^T)"
                    .to_string(),
                "拒收包裹须先拍照：拍一张（自动附上），或扫 CMD-PHOTO (^T)".to_string(),
            ),
            1 => pick(
                lang,
                format!("Unit {list} needs a photo before signing: select it, take one, or CMD-PHOTO (^T)"),
                format!("商品 {list} 签收前须拍照：选中它，拍一张，或扫 CMD-PHOTO (^T)"),
            ),
            _ => pick(
                lang,
                format!("Units {list} need a photo before signing: select each, take one, or CMD-PHOTO (^T)"),
                format!("商品 {list} 签收前须拍照：逐件选中，拍照，或扫 CMD-PHOTO (^T)"),
            ),
        }
    }

    /// A parcel named by its number, for a photo that went to one not on screen.
    pub fn parcel_named(lang: Lang, id: i64) -> String {
        pick(lang, format!("parcel P{id}"), format!("包裹 P{id}"))
    }

    /// The photos of a parcel itself, in its units list's title.
    pub fn parcel_photos(lang: Lang, n: i64) -> String {
        pick(lang, format!("📷{n} of the parcel"), format!("包裹照片 📷{n}"))
    }

    /// How many photos a review entry has, and how to see them.
    pub fn review_photos(lang: Lang, n: i64) -> String {
        pick(lang, format!("📷 {n} (^T shows)"), format!("📷 {n} 张（^T 查看）"))
    }

    /// The review entry has no photos after all.
    pub fn no_photos_here(lang: Lang) -> String {
        pick(lang, "📷 No photo of this entry".to_string(), "📷 此条目没有照片".to_string())
    }

    /// A review entry's photos on screen.
    pub fn photos_shown(lang: Lang, n: usize) -> String {
        pick(
            lang,
            format!("📷 {n} photo(s): ↑/↓ the next, Esc back"),
            format!("📷 共 {n} 张照片：↑/↓ 翻看，Esc 返回"),
        )
    }

    /// Photos of a review entry that cannot be shown (damaged, or gone from the store).
    pub fn photos_not_shown(lang: Lang, what: &str) -> String {
        pick(
            lang,
            format!("not shown: {what} (run audit verify)"),
            format!("无法显示：{what}（请运行 audit verify）"),
        )
    }

    /// Which photo of how many.
    pub fn photo_of(lang: Lang, n: usize, of: usize) -> String {
        pick(lang, format!("📷 photo {n} of {of}"), format!("📷 第 {n}/{of} 张"))
    }

    /// A photo handed to the desktop's viewer.
    pub fn photo_opened(lang: Lang, name: &str) -> String {
        pick(lang, format!("📷 {name} opened in the viewer"), format!("📷 已在看图程序中打开 {name}"))
    }

    /// `CMD-PHOTO` at a station with no camera folder.
    pub fn no_camera_folder(lang: Lang) -> String {
        pick(
            lang,
            "No camera folder is set at this station ([photos] inbox in returns-dock.toml)".to_string(),
            "本工位未设置相机文件夹（returns-dock.toml 中的 [photos] inbox）".to_string(),
        )
    }

    /// `CMD-PHOTO` with no parcel open.
    pub fn photo_without_parcel(lang: Lang) -> String {
        pick(
            lang,
            "No parcel is open: scan a parcel first, then CMD-PHOTO attaches the photos".to_string(),
            "没有打开的包裹：请先扫包裹，再扫 CMD-PHOTO 附上照片".to_string(),
        )
    }

    /// `CMD-PHOTO` with the folder empty.
    pub fn no_photo(lang: Lang, dir: &str) -> String {
        pick(
            lang,
            format!("📷 No photo in the camera folder {dir}"),
            format!("📷 相机文件夹 {dir} 中没有照片"),
        )
    }

    /// One picture of the camera's folder, handled.
    pub fn photo(lang: Lang, news: &crate::station::messages::PhotoNews) -> String {
        use crate::domain::text::on_screen;
        use crate::station::messages::PhotoNews as N;
        match news {
            N::Attached { name, done } => {
                let name = on_screen(name);
                match (done.seq, done.again) {
                    (Some(seq), false) => pick(
                        lang,
                        format!("photo {} attached to unit {seq}", done.count),
                        format!("第 {} 张照片已附到商品 {seq}", done.count),
                    ),
                    (None, false) => pick(
                        lang,
                        format!("photo {} attached to the parcel", done.count),
                        format!("第 {} 张照片已附到包裹", done.count),
                    ),
                    (Some(seq), true) => pick(
                        lang,
                        format!("{name} is already attached to unit {seq} (kept once)"),
                        format!("{name} 已附在商品 {seq}（同一张只存一次）"),
                    ),
                    (None, true) => pick(
                        lang,
                        format!("{name} is already attached to the parcel (kept once)"),
                        format!("{name} 已附在包裹（同一张只存一次）"),
                    ),
                }
            }
            N::NotAPicture { name, why } => {
                use crate::evidence::picture::NotAPicture as P;
                let zh = match why {
                    P::Empty => "文件为空".to_string(),
                    P::Kind => "不是 JPEG 或 PNG 图片".to_string(),
                    P::Incomplete(k) => format!("不是完整的 {} 图片（文件不完整）", k.code().to_uppercase()),
                    P::Unreadable(k, _) => format!("{} 图片已损坏", k.code().to_uppercase()),
                    P::TooManyPixels { width, height } => {
                        format!(
                            "{width} x {height} 像素，超过照片上限（{} 百万像素）",
                            crate::evidence::picture::PIXELS / 1_000_000
                        )
                    }
                    P::TooLarge { bytes, limit } => {
                        format!("{} MB，超过照片上限 {} MB", bytes.div_ceil(1_000_000), limit / 1_000_000)
                    }
                };
                pick(
                    lang,
                    format!("{} not taken: {why}; it stays in the camera folder", on_screen(name)),
                    format!("{} 未采用：{zh}；文件留在相机文件夹中", on_screen(name)),
                )
            }
            N::Refused { name, why } => pick(
                lang,
                format!("{} not taken: {}; it stays in the camera folder", on_screen(name), on_screen(why)),
                format!("{} 未采用：{}；文件留在相机文件夹中", on_screen(name), on_screen(why)),
            ),
            N::Waiting { name } => pick(
                lang,
                format!(
                    "{} waits in the camera folder: no parcel is open (CMD-PHOTO attaches it)",
                    on_screen(name)
                ),
                format!("{} 留在相机文件夹：没有打开的包裹（扫 CMD-PHOTO 附上）", on_screen(name)),
            ),
            N::More { n } => pick(
                lang,
                format!("{n} more in the camera folder: CMD-PHOTO again takes the next"),
                format!("相机文件夹中还有 {n} 张：再扫 CMD-PHOTO 继续"),
            ),
            N::Folder { dir, why } => pick(
                lang,
                format!("the camera folder {} cannot be read: {}", on_screen(dir), on_screen(why)),
                format!("无法读取相机文件夹 {}：{}", on_screen(dir), on_screen(why)),
            ),
        }
    }

    /// A return that came in several boxes.
    pub fn in_boxes(lang: Lang, boxes: i64) -> String {
        pick(lang, format!("in {boxes} boxes"), format!("共 {boxes} 箱"))
    }

    /// How many units of a line came in the return's earlier boxes.
    pub fn earlier_boxes(lang: Lang, n: i64) -> String {
        pick(lang, format!("{n} in earlier boxes"), format!("前箱已到 {n} 件"))
    }

    pub fn signed_unidentified(lang: Lang, id: i64) -> String {
        pick(
            lang,
            format!("Parcel P{id} signed as unidentified: sent to the supervisor"),
            format!("包裹 P{id} 已作为无主件签收：已提交主管复核"),
        )
    }

    pub fn cannot_sign(lang: Lang, n: usize) -> String {
        pick(
            lang,
            format!("Cannot sign: {} not inspected yet", plural(n, "unit", "units")),
            format!("无法签收：尚有 {n} 件商品未验货"),
        )
    }

    pub fn refused_parcel(lang: Lang, id: i64) -> String {
        pick(
            lang,
            format!("Parcel P{id} refused: sent to the supervisor"),
            format!("包裹 P{id} 已拒收：已转主管复核"),
        )
    }

    pub fn taken(lang: Lang, station: &str) -> String {
        pick(
            lang,
            format!("Station {station} received this parcel a moment ago: nothing recorded here"),
            format!("{station} 刚刚已收此包裹：本台未记录"),
        )
    }

    /// Where a record was made, when that is another dock than this station's.
    pub fn at_dock(lang: Lang, dock: &str) -> String {
        pick(lang, format!("at dock {dock}"), format!("{dock} 仓"))
    }

    /// A station as a message names it: with its dock when that is not this station's.
    pub fn station_at(lang: Lang, station: &str, dock: Option<&str>, here: &str) -> String {
        match dock {
            Some(d) if d != here => {
                pick(lang, format!("{station} at dock {d}"), format!("{d} 仓的 {station}"))
            }
            _ => station.to_string(),
        }
    }

    pub fn take_over_offer(lang: Lang, station: &str, operator: &str) -> String {
        pick(
            lang,
            format!("This parcel is open at station {station} ({operator}): scan CONFIRM (F12) to take it over here"),
            format!("该包裹正在 {station} 处理（{operator}）：扫描“确认”(F12) 接管到本台"),
        )
    }

    pub fn taken_over(lang: Lang, station: &str) -> String {
        pick(
            lang,
            format!("A supervisor moved this parcel to station {station}: nothing recorded here"),
            format!("主管已将该包裹转到 {station}：本台未记录"),
        )
    }

    pub fn mandatory_review(lang: Lang, why: crate::store::station::Mandatory) -> String {
        use crate::store::station::Mandatory;
        match why {
            Mandatory::Value(c) => {
                let v = crate::domain::money::format_cents(c);
                pick(
                    lang,
                    format!("worth over {v}: a supervisor must review this refusal"),
                    format!("金额超过 {v}：此拒收须主管复核"),
                )
            }
            Mandatory::Count(n) => pick(
                lang,
                format!("more than {n} refusals in this parcel: a supervisor must review"),
                format!("本包裹拒收超过 {n} 件：须主管复核"),
            ),
        }
    }

    pub fn supervisors_only(lang: Lang) -> String {
        pick(
            lang,
            "For supervisors: scan a supervisor badge first".into(),
            "仅限主管：请先扫描主管工牌".into(),
        )
    }

    /// Why a PIN was not taken; a lock says until when, in the station's time.
    pub fn pin_refused(lang: Lang, r: &crate::store::auth::PinRefusal, zone: chrono::FixedOffset) -> String {
        use crate::store::auth::PinRefusal as R;
        match r {
            R::Wrong { left, .. } => pick(
                lang,
                format!("Wrong PIN: {left} more wrong and this supervisor is locked"),
                format!("PIN 错误：再错 {left} 次该主管将被锁定"),
            ),
            R::Locked { id, until } => {
                let at = until.with_timezone(&zone).format("%H:%M");
                pick(
                    lang,
                    format!(
                        "{} is locked after too many wrong PINs, until {at}",
                        crate::domain::text::on_screen(id)
                    ),
                    format!("{} PIN 错误次数过多，已锁定至 {at}", crate::domain::text::on_screen(id)),
                )
            }
            R::NotSupervisor(id) => pick(
                lang,
                format!("{} is not an active supervisor", crate::domain::text::on_screen(id)),
                format!("{} 不是在职主管", crate::domain::text::on_screen(id)),
            ),
        }
    }

    /// What the PIN asked for will open.
    pub fn pin_for(lang: Lang, then: crate::station::app::Pending) -> String {
        use crate::station::app::Pending as P;
        let (en, zh) = match then {
            P::Review => ("to open the review queue", "打开复核队列"),
            P::Dashboard => ("to open the dashboard", "打开看板"),
            P::Export => ("to export this station's results", "导出本工位结果"),
            P::TakeOver(_) => ("to take over the parcel", "接管该包裹"),
        };
        pick(lang, format!("The PIN {en} · Esc cancels"), format!("输入 PIN 以{zh} · Esc 取消"))
    }

    pub fn order_in_boxes(lang: Lang, order: &str, n: usize) -> String {
        pick(
            lang,
            format!("Order {order} has {n} returns in separate boxes: which box is this?"),
            format!("订单 {order} 有 {n} 个退货分开寄回：这是哪一个包裹？"),
        )
    }

    pub fn not_a_pin(lang: Lang) -> String {
        pick(
            lang,
            "A PIN is 4 to 12 digits: that was not checked (Esc goes back)".into(),
            "PIN 为 4 到 12 位数字：未作校验（Esc 返回）".into(),
        )
    }

    pub fn log_broken_short(lang: Lang) -> String {
        pick(
            lang,
            "AUDIT LOG TAMPERED: run audit verify".into(),
            "审计日志被改动：请运行 audit verify".into(),
        )
    }

    pub fn log_broken(lang: Lang, problem: &str) -> String {
        pick(
            lang,
            format!("AUDIT LOG TAMPERED: {problem} · tell a supervisor (returns-dock audit verify)"),
            format!("审计日志被改动：{problem} · 请通知主管（returns-dock audit verify）"),
        )
    }

    /// `5 min`, or `30 s` under a minute.
    fn idle_words(lang: Lang, idle: std::time::Duration) -> String {
        let s = idle.as_secs();
        match (s < 60, lang) {
            (true, Lang::Zh) => format!("{s} 秒"),
            (true, Lang::En) => format!("{s} s"),
            (false, Lang::Zh) => format!("{} 分钟", s.div_ceil(60)),
            (false, Lang::En) => format!("{} min", s.div_ceil(60)),
        }
    }

    pub fn session_open(lang: Lang, idle: std::time::Duration) -> String {
        let idle = idle_words(lang, idle);
        pick(
            lang,
            format!("Supervisor functions open: they close after {idle} without a key, or at the next badge"),
            format!("主管功能已解锁：{idle}无操作或扫描下一张工牌后关闭"),
        )
    }

    pub fn session_ended(lang: Lang, idle: std::time::Duration) -> String {
        let idle = idle_words(lang, idle);
        pick(
            lang,
            format!("Supervisor functions closed after {idle} without a key: the PIN opens them again"),
            format!("{idle}无操作，主管功能已关闭：输入 PIN 可再次打开"),
        )
    }

    pub fn reviews_waiting(lang: Lang, n: usize) -> String {
        pick(
            lang,
            format!("{} for review", plural(n, "entry waits", "entries wait")),
            if n == 0 { "暂无待复核".to_string() } else { format!("{n} 项待复核") },
        )
    }

    pub fn decided(lang: Lang, id: i64) -> String {
        pick(lang, format!("R{id} decided and logged"), format!("R{id} 已处理并记录"))
    }

    pub fn overturn_comment(lang: Lang, outcome: &str) -> String {
        pick(
            lang,
            format!("Overturn to {outcome}: type why and press Enter (Esc cancels)"),
            format!("改判为 {outcome}：请输入原因后回车（Esc 取消）"),
        )
    }

    pub fn export_started(lang: Lang) -> String {
        pick(lang, "Export started; keep scanning".into(), "导出已开始；可继续扫描".into())
    }

    /// The export's answer. With no `path` nothing was written (nothing new since the last
    /// batch), and `rows` is that batch's number (0 when there was none).
    pub fn exported(lang: Lang, rows: usize, path: &str) -> String {
        pick(lang, format!("Export done: {rows} rows in {path}"), format!("导出完成：{rows} 行，文件 {path}"))
    }

    /// An export that found nothing since batch `last` (0: there was never one): no file.
    pub fn nothing_new(lang: Lang, last: Option<i64>) -> String {
        match last {
            None => pick(
                lang,
                "Export done: nothing to export yet; no file written".into(),
                "导出完成：暂无可导出内容，未生成文件".into(),
            ),
            Some(b) => pick(
                lang,
                format!("Export done: nothing new since batch {b}; no file written"),
                format!("导出完成：自批次 {b} 以来没有新内容，未生成文件"),
            ),
        }
    }

    pub fn scan_too_long(lang: Lang, n: usize, max: usize) -> String {
        pick(
            lang,
            format!("Scan too long ({n} characters; no code has more than {max}): a stuck scanner or a paste? nothing recorded"),
            format!("扫描内容过长({n} 个字符，条码最多 {max} 个)：扫描枪卡键或误粘贴？未记录"),
        )
    }

    pub fn linked(lang: Lang, id: i64, rma: &str) -> String {
        pick(lang, format!("R{id}: the parcel is linked to {rma}"), format!("R{id}：包裹已关联到 {rma}"))
    }

    pub fn no_such_return(lang: Lang, rma: &str) -> String {
        pick(
            lang,
            format!("No expected return {rma}: check the RMA number on the parcel or its papers"),
            format!("没有退货单 {rma}：请核对包裹或随附单据上的退货单号"),
        )
    }

    pub fn reprinting(lang: Lang, label: &str) -> String {
        pick(
            lang,
            format!("Label {label} sent to the printer again"),
            format!("标签 {label} 已重新发送到打印机"),
        )
    }

    pub fn no_printer(lang: Lang) -> String {
        pick(
            lang,
            "No label printer is set up: add a [printer] section to returns-dock.toml".into(),
            "未设置标签打印机：请在 returns-dock.toml 中添加 [printer]".into(),
        )
    }

    pub fn nothing_to_reprint(lang: Lang) -> String {
        pick(lang, "No inspected unit to print a label for yet".into(), "还没有已检验的商品可补打标签".into())
    }

    /// The header's printer warning: why, and how many labels wait.
    pub fn printer_trouble(lang: Lang, error: &str, waiting: usize) -> String {
        pick(
            lang,
            format!("⚠ printer: {waiting} waiting · {error}"),
            format!("⚠ 打印机：{waiting} 张待打 · {error}"),
        )
    }

    pub fn closed(lang: Lang) -> String {
        pick(lang, "This parcel is closed already".into(), "该包裹已关闭".into())
    }

    pub fn storage(lang: Lang, msg: &str) -> String {
        pick(lang, format!("NOT SAVED: {msg}"), format!("未保存：{msg}"))
    }

    /// What to do again after a step that was not saved: its prompt closed with it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Again {
        Scan,
        UnitAndSerial,
        OutcomeAndReason,
        Note,
        Cause,
        Sign,
    }

    /// A step that could not be saved: nothing of it was kept, on disk or on screen.
    pub fn not_saved(lang: Lang, msg: &str, again: Again) -> String {
        let (en, zh) = match again {
            Again::Scan => ("Scan it again", "请重新扫描"),
            Again::UnitAndSerial => ("Scan the unit again, then its serial", "请重新扫描商品，再扫描序列号"),
            Again::OutcomeAndReason => {
                ("Scan the outcome again, then its reason", "请重新扫描处理结果，再扫描原因")
            }
            Again::Note => ("Add the note again (Ctrl+N)", "请重新添加备注 (Ctrl+N)"),
            Again::Cause => ("Change the cause again (Ctrl+K)", "请重新修改原因归属 (Ctrl+K)"),
            Again::Sign => ("Scan SIGN again (F8)", "请重新扫描签收 (F8)"),
        };
        pick(
            lang,
            format!("NOT SAVED, nothing recorded: {msg}. {en}"),
            format!("未保存，未记录任何内容：{msg}。{zh}"),
        )
    }

    pub fn parcel_open_first(lang: Lang) -> String {
        pick(
            lang,
            "A parcel is open: sign it (F8) or refuse it (F10) first".into(),
            "当前包裹未完成：请先签收 (F8) 或拒收 (F10)".into(),
        )
    }

    pub fn sign_in_first(lang: Lang) -> String {
        pick(lang, "Sign in first: scan your badge".into(), "请先扫描工牌登录".into())
    }

    pub fn note_required(lang: Lang) -> String {
        pick(lang, "Reason OTHER needs a note".into(), "原因“其他”需要填写备注".into())
    }

    pub fn cause_set(lang: Lang, seq: i64, cause: &str) -> String {
        pick(lang, format!("Unit {seq}: cause {cause}"), format!("商品 {seq}：原因归属 {cause}"))
    }

    pub fn shift_counts(lang: Lang, parcels: i64, units: i64, refused: i64) -> String {
        pick(
            lang,
            format!(
                "{}, {}, {refused} refused",
                plural(parcels, "parcel", "parcels"),
                plural(units, "unit", "units")
            ),
            format!("{parcels} 个包裹，{units} 件商品，{refused} 件拒收"),
        )
    }

    pub fn queues(lang: Lang, review: i64, unidentified: i64) -> String {
        pick(
            lang,
            format!("{review} for review, {unidentified} unidentified"),
            format!("{review} 项待复核，{unidentified} 个无主件"),
        )
    }

    pub fn missing_line(lang: Lang, qty: i64, sku: &str, rma: &str) -> String {
        pick(lang, format!("MISSING {qty} x {sku} ({rma})"), format!("缺少 {qty} 件 {sku}（{rma}）"))
    }

    pub fn flagged_unit(lang: Lang, seq: i64, sku: &str, flag: &str) -> String {
        pick(lang, format!("Unit {seq} {sku}: {flag}"), format!("商品 {seq} {sku}：{flag}"))
    }

    pub fn uninspected_unit(lang: Lang, seq: i64, sku: &str) -> String {
        pick(lang, format!("Unit {seq} {sku}: not inspected"), format!("商品 {seq} {sku}：未验货"))
    }

    /// `1 unit`, `2 units`.
    pub fn plural<N: TryInto<i64>>(n: N, one: &str, many: &str) -> String {
        let n: i64 = n.try_into().unwrap_or(i64::MAX);
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    }

    /// A parcel in the dock's last parcels: its state with a symbol, and what it was signed
    /// with.
    pub fn last_parcel_state(lang: Lang, state: ParcelState, discrepancies: i64) -> String {
        let words = lang.code(state);
        match (state, discrepancies) {
            (ParcelState::Signed, 0) => format!("✔ {words}"),
            (ParcelState::Signed, n) => pick(
                lang,
                format!("⚠ {words}, {}", plural(n, "discrepancy", "discrepancies")),
                format!("⚠ {words}，{n} 项差异"),
            ),
            (ParcelState::Refused, _) => format!("✖ {words}"),
            (ParcelState::Open, _) => format!("○ {words}"),
        }
    }

    /// A product's barcode scanned where a parcel's label was expected.
    pub fn product_not_parcel(lang: Lang, sku: &str, name: &str) -> String {
        pick(
            lang,
            format!("This is a product ({sku}, {name}): scan the parcel's label first"),
            format!("这是商品条码（{sku}，{name}）：请先扫描包裹面单"),
        )
    }

    pub fn no_cause_until_linked(lang: Lang) -> String {
        pick(
            lang,
            "No cause until this parcel is linked to its return (a supervisor or an import links it)".into(),
            "该包裹关联到退货单后才有原因归属（由主管或导入关联）".into(),
        )
    }

    pub fn nothing_to_undo(lang: Lang) -> String {
        pick(lang, "Nothing to undo in this parcel yet".into(), "本包裹尚无可撤销的操作".into())
    }

    pub fn no_parcel_open(lang: Lang) -> String {
        pick(lang, "No parcel is open: scan a parcel first".into(), "尚未打开包裹：请先扫描包裹".into())
    }

    /// Signing refused: the first unit without an outcome, now selected.
    pub fn cannot_sign_unit(lang: Lang, seq: i64, sku: &str, n: usize) -> String {
        let more = n.saturating_sub(1);
        match more {
            0 => pick(
                lang,
                format!("Cannot sign: unit {seq} ({sku}) has no outcome; it is selected"),
                format!("无法签收：商品 {seq}（{sku}）尚无处理结果，已选中"),
            ),
            m => pick(
                lang,
                format!(
                    "Cannot sign: unit {seq} ({sku}) and {} have no outcome; unit {seq} is selected",
                    plural(m, "other", "others")
                ),
                format!("无法签收：商品 {seq}（{sku}）等 {n} 件尚无处理结果，已选中商品 {seq}"),
            ),
        }
    }

    /// A note saved, with its first words.
    pub fn note_saved(lang: Lang, note: &str) -> String {
        let mut start: String = note.chars().take(30).collect();
        if note.chars().count() > 30 {
            start.push('…');
        }
        pick(lang, format!("note saved: “{start}”"), format!("备注已保存：“{start}”"))
    }

    pub fn comment_required(lang: Lang) -> String {
        pick(
            lang,
            "An overturn needs a comment: type why, then Enter (Esc cancels)".into(),
            "改判须填写原因：请输入后按回车（Esc 取消）".into(),
        )
    }

    /// Why a supervisor's decision was refused, in the station's language.
    pub fn review_refusal(lang: Lang, e: &crate::store::review::ReviewRefusal) -> String {
        use crate::store::review::ReviewRefusal as R;
        let zh = match e {
            R::NotSupervisor(id) => format!("{id} 不是主管"),
            R::NoSuchReview(id) => format!("无复核项 R{id}"),
            R::AlreadyDecided(id) => format!("R{id} 已处理过"),
            R::CommentRequired => return comment_required(lang),
            R::NoSuchReturn(r) => return no_such_return(lang, r),
            R::NotUnidentified(id) => format!("R{id} 不是无主件"),
            R::AlreadyLinked(p, r) => format!("包裹 P{p} 已关联到 {r}"),
            R::NothingToOverturn(id) => format!("R{id} 不是拒收商品：只能改判商品的处理结果（可直接确认）"),
            R::ReturnReceived(r, p) => format!("{r} 已有包裹在处理或已完结（包裹 P{p}），不能再关联"),
            R::GradeNotAllowed => "等级仅适用于良品（A）或二手（B、C）".to_string(),
            R::MissingBoxes(id) => format!("R{id} 的商品缺箱，不能改判为良品"),
        };
        pick(lang, e.to_string(), zh)
    }

    /// A discrepancy's kind (the export's codes) in words.
    pub fn discrepancy_kind(lang: Lang, kind: &str) -> &str {
        match (lang, kind) {
            (Lang::En, "missing") => "missing",
            (Lang::En, "wrong_item") => "wrong item",
            (Lang::En, "unexpected") => "on no RMA",
            (Lang::En, "qty_over") => "one too many",
            (Lang::En, "serial_mismatch") => "serial mismatch",
            (Lang::Zh, "missing") => "缺少",
            (Lang::Zh, "wrong_item") => "错发商品",
            (Lang::Zh, "unexpected") => "多出商品",
            (Lang::Zh, "qty_over") => "数量超出",
            (Lang::Zh, "serial_mismatch") => "序列号不符",
            (_, other) => other,
        }
    }

    /// A badge or id unknown on a database that has no users at all yet.
    pub fn no_users_yet(lang: Lang, id: &str) -> String {
        pick(
            lang,
            format!("No user {id}: this database has no users yet. Import them (returns-dock import users FILE) or try `returns-dock demo`"),
            format!("无此用户 {id}：该数据库尚无用户。请导入（returns-dock import users 文件）或先试用 returns-dock demo"),
        )
    }

    pub fn units(lang: Lang, n: i64) -> String {
        pick(lang, plural(n, "unit", "units"), format!("{n} 件"))
    }

    /// Median and 90th percentile of a turnaround, in hours.
    pub fn turnaround(lang: Lang, median: Option<f64>, p90: Option<f64>) -> String {
        let h = |x: Option<f64>| match (x, lang) {
            (None, _) => "-".to_string(),
            (Some(v), Lang::En) => format!("{v:.1} h"),
            (Some(v), Lang::Zh) => format!("{v:.1} 小时"),
        };
        pick(
            lang,
            format!("median {} · p90 {}", h(median), h(p90)),
            format!("中位数 {} · 90% 分位 {}", h(median), h(p90)),
        )
    }

    /// Parcels waiting longer than `days` to be signed.
    pub fn late(lang: Lang, days: u32, n: usize) -> String {
        pick(
            lang,
            format!("Waiting over {}: {n}", plural(days, "day", "days")),
            format!("超时未签收，超过 {days} 天：{n} 个"),
        )
    }
}

/// The words of a unit flag.
pub fn flag_words(lang: Lang, flag: crate::domain::parcel::UnitFlag) -> &'static str {
    use crate::domain::parcel::UnitFlag::*;
    match (lang, flag) {
        (Lang::En, WrongItem) => "WRONG ITEM (not on the RMA)",
        (Lang::En, Unexpected) => "UNEXPECTED (on no RMA)",
        (Lang::En, QtyOver) => "ONE TOO MANY",
        (Lang::En, SerialMismatch) => "SERIAL MISMATCH",
        (Lang::Zh, WrongItem) => "错发商品（非售后单商品）",
        (Lang::Zh, Unexpected) => "多出商品（无对应售后单）",
        (Lang::Zh, QtyOver) => "数量超出",
        (Lang::Zh, SerialMismatch) => "序列号不符",
    }
}

#[cfg(test)]
mod tests {
    use super::{say, Lang};

    /// An export that wrote nothing says so, with the batch it found nothing since, in both
    /// languages; it never claims a file.
    #[test]
    fn an_export_with_nothing_new_says_so() {
        assert_eq!(
            say::nothing_new(Lang::En, Some(7)),
            "Export done: nothing new since batch 7; no file written"
        );
        assert_eq!(say::nothing_new(Lang::Zh, Some(7)), "导出完成：自批次 7 以来没有新内容，未生成文件");
        assert_eq!(say::nothing_new(Lang::En, None), "Export done: nothing to export yet; no file written");
        assert!(
            say::exported(Lang::En, 3, "returns-export-b0003-20261201-1546.csv").starts_with("Export done")
        );
    }
}
