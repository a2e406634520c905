//! Deterministic synthetic expected returns and the catalog they refer to, for demos,
//! training and benchmarks. The same `--returns` and `--seed` give the same bytes on every
//! machine and every build: the random numbers come from SplitMix64, not from a library whose
//! sequence might change.

use crate::domain::gtin::gs1_check_digit;
use std::io::{self, Write};

/// SplitMix64: small, fast, and fixed forever.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `percent` in 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug, Clone)]
pub struct GenOptions {
    pub returns: u64,
    pub seed: u64,
    /// Stop once this many lines are written (for benchmarks that want a line count).
    pub max_lines: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenSummary {
    pub returns: u64,
    pub lines: u64,
    pub products: u64,
}

struct Product {
    sku: String,
    name: String,
    gtin: String,
    serialised: bool,
    supplier: &'static str,
    cents: u64,
}

const BRANDS: &[&str] = &[
    "小米",
    "华为",
    "Anker",
    "Baseus",
    "优衣库",
    "Nike",
    "美的",
    "Philips",
    "绿联",
    "Logitech",
    "李宁",
    "Lenovo",
];
const ITEMS: &[(&str, bool, u64)] = &[
    ("蓝牙耳机", true, 19900),
    ("Wireless Earbuds", true, 25900),
    ("充电宝 20000mAh", true, 12900),
    ("USB-C Charger 65W", false, 15900),
    ("数据线 1m", false, 2900),
    ("机械键盘", true, 39900),
    ("Wireless Mouse", false, 9900),
    ("电动牙刷", true, 29900),
    ("纯棉T恤", false, 7900),
    ("Running Shoes", false, 49900),
    ("保温杯 500ml", false, 8900),
    ("Smart Watch", true, 89900),
    ("空气炸锅", true, 45900),
    ("Desk Lamp", false, 13900),
    ("羽绒服", false, 69900),
    ("Phone Case", false, 3900),
];
const VARIANTS: &[&str] = &["黑色", "白色", "Blue", "Grey", "M", "L", "XL", "42", "标准版", "Pro"];
const SUPPLIERS: &[&str] = &[
    "深圳市华强电子有限公司",
    "Ningbo Home Goods Co.",
    "广州衣品服饰",
    "Dongguan Tech Ltd.",
    "义乌小商品批发",
];
const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "小明", "晓燕"];
const LATIN: &[&str] = &["Emma Smith", "Liam Chen", "Olivia Wang", "Noah Brown", "Ava Li", "Lucas Martin"];
const REASONS: &[&str] = &[
    "七天无理由退换货",
    "质量问题",
    "商品破损",
    "卖家发错货",
    "少件/漏发",
    "与商品描述不符",
    "不想要了",
    "Item defective or doesn't work",
    "Arrived damaged in transit",
    "No longer needed",
    "Wrong item was sent",
    "Not as described",
];

fn product(rng: &mut Rng, i: u64) -> Product {
    let brand = rng.pick(BRANDS);
    let (item, serialised, cents) = rng.pick(ITEMS);
    let variant = rng.pick(VARIANTS);
    // GS1 China prefix 690-699, a company number, the item, then the check digit.
    let body = format!("69{}{:04}{:06}", rng.below(10), 1000 + rng.below(9000), i % 1_000_000);
    let gtin = format!("{body}{}", gs1_check_digit(body.as_bytes()));
    Product {
        sku: format!("SKU-{:06}", i + 1),
        name: format!("{brand} {item} {variant}"),
        gtin,
        serialised,
        supplier: rng.pick(SUPPLIERS),
        cents: cents + rng.below(10) * 100,
    }
}

fn catalog_size(returns: u64) -> u64 {
    (returns / 100).clamp(50, 20_000)
}

fn tracking(rng: &mut Rng, i: u64) -> (String, &'static str) {
    match rng.below(5) {
        0 => (format!("SF{:013}", 1_400_000_000_000 + i), "顺丰速运"),
        1 => (format!("YT{:013}", 7_300_000_000_000 + i), "圆通速递"),
        2 => (format!("JT{:013}", 5_100_000_000_000 + i), "极兔速递"),
        3 => (format!("JDVA{:011}", 20_000_000_000 + i), "京东物流"),
        _ => {
            let digits = format!("{:08}", i % 100_000_000);
            const W: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
            let sum: u32 = digits.bytes().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
            let check = match 11 - sum % 11 {
                10 => 0,
                11 => 5,
                c => c,
            };
            (format!("EA{digits}{check}CN"), "EMS")
        }
    }
}

pub const RETURNS_HEADER: &str = "rma_no,order_no,tracking_no,carrier,customer,phone,reason,resolution,created_at,sku,barcode,title,qty,serials,unit_value";

/// Writes the returns CSV to `out` and the catalog CSV to `catalog`.
pub fn generate(opts: &GenOptions, out: &mut dyn Write, catalog: &mut dyn Write) -> io::Result<GenSummary> {
    let mut rng = Rng::new(opts.seed);
    let n_products = catalog_size(opts.returns);
    let products: Vec<Product> = (0..n_products).map(|i| product(&mut rng, i)).collect();
    writeln!(catalog, "sku,name,barcodes,serialised,supplier,unit_value")?;
    for p in &products {
        writeln!(
            catalog,
            "{},{},{},{},{},{}.{:02}",
            p.sku,
            csv_field(&p.name),
            p.gtin,
            if p.serialised { "yes" } else { "no" },
            csv_field(p.supplier),
            p.cents / 100,
            p.cents % 100
        )?;
    }
    writeln!(out, "{RETURNS_HEADER}")?;
    let mut summary = GenSummary { products: n_products, ..GenSummary::default() };
    let mut order_no = 3_900_000_000_000_000_000u64 + opts.seed % 1_000_000 * 1_000_000;
    let mut track = tracking(&mut rng, 0);
    let mut serial_no = 0u64;
    let start =
        chrono::NaiveDate::from_ymd_opt(2026, 11, 1).and_then(|d| d.and_hms_opt(8, 0, 0)).unwrap_or_default();
    for i in 0..opts.returns {
        if opts.max_lines.is_some_and(|m| summary.lines >= m) {
            break;
        }
        // Now and then a customer returns a second order item under the same order, or puts
        // two RMAs in one box.
        if !rng.chance(6) {
            order_no += 1 + rng.below(50);
        }
        if i == 0 || !rng.chance(3) {
            track = tracking(&mut rng, i);
        }
        let rma = format!("{}", 200_000_000_000_000 + i * 7 + opts.seed % 7);
        let customer = if rng.chance(75) {
            format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
        } else {
            rng.pick(LATIN).to_string()
        };
        let phone = format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000));
        let reason = rng.pick(REASONS);
        let resolution = match rng.below(20) {
            0..=15 => "refund",
            16..=18 => "exchange",
            _ => "repair",
        };
        let at = start + chrono::Duration::seconds((i * 37) as i64);
        let created = format!("{}", at.format("%Y-%m-%d %H:%M:%S"));
        let n_lines = match rng.below(10) {
            0..=3 => 1,
            4..=6 => 2,
            7..=8 => 3,
            _ => 4,
        };
        let mut used: Vec<u64> = Vec::with_capacity(n_lines);
        for _ in 0..n_lines {
            let mut pi = rng.below(n_products);
            while used.contains(&pi) {
                pi = (pi + 1) % n_products;
            }
            used.push(pi);
            let p = &products[pi as usize];
            let qty = if rng.chance(10) { 2 } else { 1 };
            let serials = if p.serialised {
                (0..qty)
                    .map(|_| {
                        serial_no += 1;
                        format!("SN{:010X}", serial_no * 2_654_435_761 % 0xFF_FFFF_FFFF)
                    })
                    .collect::<Vec<_>>()
                    .join(";")
            } else {
                String::new()
            };
            writeln!(
                out,
                "{rma},{order_no},{},{},{},{phone},{},{resolution},{created},{},{},{},{qty},{serials},{}.{:02}",
                track.0,
                track.1,
                csv_field(&customer),
                csv_field(reason),
                p.sku,
                p.gtin,
                csv_field(&p.name),
                p.cents / 100,
                p.cents % 100
            )?;
            summary.lines += 1;
        }
        summary.returns += 1;
    }
    Ok(summary)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(returns: u64, seed: u64) -> (Vec<u8>, Vec<u8>, GenSummary) {
        let (mut out, mut cat) = (Vec::new(), Vec::new());
        let s = generate(&GenOptions { returns, seed, max_lines: None }, &mut out, &mut cat).unwrap();
        (out, cat, s)
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        assert_eq!(run(200, 7).0, run(200, 7).0);
        assert_ne!(run(200, 7).0, run(200, 8).0);
    }

    #[test]
    fn realistic_shape() {
        let (out, cat, s) = run(1000, 1);
        assert_eq!(s.returns, 1000);
        assert!(s.lines > 1500 && s.lines < 3000, "about two lines a return: {}", s.lines);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count() as u64, s.lines + 1);
        let cat = String::from_utf8(cat).unwrap();
        for line in cat.lines().skip(1) {
            let gtin = line.split(',').nth(2).unwrap();
            assert!(crate::domain::gtin::Gtin::parse(gtin).is_ok(), "{gtin}");
        }
        // Some boxes carry two RMAs: a tracking number on more than one RMA.
        let mut by_tracking = std::collections::HashMap::<&str, std::collections::HashSet<&str>>::new();
        for l in text.lines().skip(1) {
            let f: Vec<&str> = l.split(',').collect();
            by_tracking.entry(f[2]).or_default().insert(f[0]);
        }
        assert!(by_tracking.values().any(|rmas| rmas.len() > 1));
        assert!(text.contains("SN"), "serialised products carry serials");
    }
}
