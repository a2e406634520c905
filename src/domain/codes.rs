//! The trade's closed vocabularies: outcomes, grades, reasons, causes, departments,
//! resolutions and roles. Each has the code used in files and barcodes and its words in
//! English and Chinese, so the contract and the screens cannot drift apart.

/// The language words are shown in: the station's screens and what the commands print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn parse(s: &str) -> Lang {
        if s.eq_ignore_ascii_case("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// A code's words (outcome, reason, cause ...) in this language.
    pub fn code<C: Coded>(self, c: C) -> &'static str {
        match self {
            Lang::En => c.en(),
            Lang::Zh => c.zh(),
        }
    }

    /// `en` or `zh`, whichever is this language's.
    pub fn pick<T>(self, en: T, zh: T) -> T {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// The width of `s` on a terminal: East Asian wide characters take two columns.
pub fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// `s` padded with blanks to `columns` on a terminal.
pub fn pad(s: &str, columns: usize) -> String {
    format!("{s}{}", " ".repeat(columns.saturating_sub(width(s))))
}

/// A closed list of codes with their words. `CODE` is what files and barcodes carry.
pub trait Coded: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    fn en(self) -> &'static str;
    fn zh(self) -> &'static str;

    /// Reads a code, ignoring case and treating `-`, `_` and blanks alike.
    fn from_code(text: &str) -> Option<Self> {
        let key = fold(text);
        Self::ALL.iter().copied().find(|c| fold(c.code()) == key)
    }
}

fn fold(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

macro_rules! coded {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $code:literal, $en:literal, $zh:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }
        impl Coded for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            fn en(self) -> &'static str { match self { $($name::$variant => $en),+ } }
            fn zh(self) -> &'static str { match self { $($name::$variant => $zh),+ } }
        }
    };
}

coded!(
    /// Where a parcel (one box) stands: on a bench, signed for, or refused.
    ParcelState {
        Open => "open", "open", "处理中";
        Signed => "signed", "signed", "已签收";
        Refused => "refused", "refused", "已拒收";
    }
);

coded!(
    /// Why an entry is in the supervisor's review queue.
    ReviewKind {
        RefusedUnit => "refused_unit", "refused unit", "拒收商品";
        RefusedParcel => "refused_parcel", "refused parcel", "拒收包裹";
        Discrepancy => "discrepancy", "discrepancies", "签收有差异";
        Unidentified => "unidentified", "unidentified", "无主件";
    }
);

/// In JSON an entry's kind is its code, as the database and the export write it.
impl serde::Serialize for ReviewKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

coded!(
    /// What happens to one unit after inspection (export column `outcome`).
    Outcome {
        Accept => "accept", "Accept", "良品入库";
        SecondHand => "second_hand", "Second-hand", "二手品";
        Scrap => "scrap", "Scrap", "报废";
        ReturnToSupplier => "return_to_supplier", "Return to supplier", "退供应商";
        Refuse => "refuse", "Refuse", "拒收";
    }
);

coded!(
    /// The condition grade: A as new, B and C second-hand.
    Grade {
        A => "A", "A (as new)", "A (全新)";
        B => "B", "B (light wear)", "B (轻微使用)";
        C => "C", "C (worn)", "C (明显使用)";
    }
);

coded!(
    /// Why a unit got an outcome other than accept (CONTRACT section 4).
    Reason {
        WrongItem => "WRONG-ITEM", "Not the item of this order", "寄回商品非本订单商品";
        Used => "USED", "Used, cannot be resold as new", "已使用,影响二次销售";
        CustomerDamage => "CUSTOMER-DAMAGE", "Damaged by the customer", "人为损坏";
        MissingParts => "MISSING-PARTS", "Parts or packaging missing", "配件/包装缺失";
        OutsidePolicy => "OUTSIDE-POLICY", "Outside the return policy", "超出退货政策";
        SerialMismatch => "SERIAL-MISMATCH", "Serial number does not match", "序列号不符";
        SuspectedFraud => "SUSPECTED-FRAUD", "Suspected fraudulent return", "疑似欺诈退货";
        Opened => "OPENED", "Opened", "已拆封";
        Cosmetic => "COSMETIC", "Cosmetic flaw", "外观瑕疵";
        Defective => "DEFECTIVE", "Does not work", "功能故障";
        TransitDamage => "TRANSIT-DAMAGE", "Damaged in transit", "运输破损";
        Expired => "EXPIRED", "Expired or near expiry", "过期/临期";
        Other => "OTHER", "Other (note required)", "其他";
    }
);

coded!(
    /// Why the unit came back at all; feeds the weekly feedback sheet.
    Cause {
        ProductDefect => "PRODUCT-DEFECT", "Product defect", "产品质量问题";
        TransitDamage => "TRANSIT-DAMAGE", "Damaged in transit", "运输破损";
        WrongItemSent => "WRONG-ITEM-SENT", "We sent the wrong item", "仓库发错货";
        MissingItemSent => "MISSING-ITEM-SENT", "We sent it incomplete", "仓库漏发";
        NotAsDescribed => "NOT-AS-DESCRIBED", "Not as described", "与描述不符";
        Service => "SERVICE", "Customer service promise", "客服承诺问题";
        ChangedMind => "CHANGED-MIND", "Customer changed mind", "买家不想要了";
        Fraud => "FRAUD", "Fraud", "欺诈";
    }
);

coded!(
    /// Who must act on a cause (the feedback sheet's grouping).
    Department {
        Product => "product", "Product / supply chain", "产品/供应链";
        Warehouse => "warehouse", "Warehouse", "仓库";
        ProductPage => "product_page", "Product page", "商品详情页";
        CustomerService => "customer_service", "Customer service", "客服";
        Customer => "customer", "Customer", "买家";
    }
);

impl Cause {
    pub fn department(self) -> Department {
        match self {
            Cause::ProductDefect => Department::Product,
            Cause::TransitDamage | Cause::WrongItemSent | Cause::MissingItemSent => Department::Warehouse,
            Cause::NotAsDescribed => Department::ProductPage,
            Cause::Service => Department::CustomerService,
            Cause::ChangedMind | Cause::Fraud => Department::Customer,
        }
    }

    /// The cause suggested by the customer's stated reason, in Chinese or English, before any
    /// inspection. The operator can change it.
    pub fn from_customer_reason(reason: &str) -> Cause {
        let r = reason.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| r.contains(w));
        if has(&["质量", "故障", "坏", "defect", "broken", "not work", "doesn't work", "faulty"]) {
            Cause::ProductDefect
        } else if has(&["破损", "运输", "damaged in", "transit", "arrived damaged", "crushed"]) {
            Cause::TransitDamage
        } else if has(&["发错", "错发", "wrong item", "wrong size", "wrong colour", "wrong color"]) {
            Cause::WrongItemSent
        } else if has(&["少件", "漏发", "缺少", "missing", "incomplete"]) {
            Cause::MissingItemSent
        } else if has(&["不符", "描述", "not as described", "different from", "色差"]) {
            Cause::NotAsDescribed
        } else if has(&["客服", "承诺", "promised", "seller said"]) {
            Cause::Service
        } else {
            Cause::ChangedMind
        }
    }
}

coded!(
    /// What after-sales will do once the goods are back.
    Resolution {
        Refund => "refund", "Refund", "退款";
        Exchange => "exchange", "Exchange", "换货";
        Repair => "repair", "Repair", "维修";
    }
);

impl Resolution {
    /// Reads `refund`, `退款`, `退货退款`, `仅退款`, `Exchange`, `换货`, `维修` ...
    pub fn parse(text: &str) -> Option<Resolution> {
        let t = text.trim();
        if let Some(r) = Resolution::from_code(t) {
            return Some(r);
        }
        if t.contains("换") {
            Some(Resolution::Exchange)
        } else if t.contains("修") {
            Some(Resolution::Repair)
        } else if t.contains("退") {
            Some(Resolution::Refund)
        } else {
            None
        }
    }
}

coded!(
    /// Who may do what at a station.
    Role {
        Operator => "operator", "Operator", "验货员";
        Supervisor => "supervisor", "Supervisor", "主管";
    }
);

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        Role::from_code(text).or(match text.trim() {
            "操作员" | "验货员" | "收货员" => Some(Role::Operator),
            "主管" | "组长" => Some(Role::Supervisor),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_in_any_case_and_separator() {
        assert_eq!(Reason::from_code("serial_mismatch"), Some(Reason::SerialMismatch));
        assert_eq!(Reason::from_code("Customer-Damage"), Some(Reason::CustomerDamage));
        assert_eq!(Outcome::from_code("RETURN-TO-SUPPLIER"), Some(Outcome::ReturnToSupplier));
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(*r));
            assert!(!r.zh().is_empty());
        }
    }

    #[test]
    fn every_cause_has_a_department() {
        assert_eq!(Cause::ProductDefect.department(), Department::Product);
        assert_eq!(Cause::MissingItemSent.department(), Department::Warehouse);
        assert_eq!(Cause::NotAsDescribed.department(), Department::ProductPage);
        assert_eq!(Cause::Service.department(), Department::CustomerService);
        assert_eq!(Cause::Fraud.department(), Department::Customer);
    }

    #[test]
    fn customer_reasons_suggest_causes() {
        assert_eq!(Cause::from_customer_reason("质量问题"), Cause::ProductDefect);
        assert_eq!(Cause::from_customer_reason("七天无理由退换货"), Cause::ChangedMind);
        assert_eq!(Cause::from_customer_reason("Item arrived damaged in transit"), Cause::TransitDamage);
        assert_eq!(Cause::from_customer_reason("卖家发错货"), Cause::WrongItemSent);
        assert_eq!(Cause::from_customer_reason("与商品描述不符"), Cause::NotAsDescribed);
    }

    #[test]
    fn resolutions_in_both_languages() {
        assert_eq!(Resolution::parse("退货退款"), Some(Resolution::Refund));
        assert_eq!(Resolution::parse("换货"), Some(Resolution::Exchange));
        assert_eq!(Resolution::parse("Repair"), Some(Resolution::Repair));
        assert_eq!(Resolution::parse("maybe"), None);
    }
}
