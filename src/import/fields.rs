//! The fields each kind of file carries, with every header that means them (CONTRACT section 3).
//! Headers are compared after NFKC, trimming and case folding, with blanks, `-`, `/` and `_`
//! alike, so `Amazon RMA ID`, `amazon-rma-id` and `AMAZON_RMA_ID` are one header.

use super::table::FieldSpec;

pub mod returns {
    pub const RMA_NO: usize = 0;
    pub const ORDER_NO: usize = 1;
    pub const TRACKING_NO: usize = 2;
    pub const CARRIER: usize = 3;
    pub const CUSTOMER: usize = 4;
    pub const PHONE: usize = 5;
    pub const REASON: usize = 6;
    pub const RESOLUTION: usize = 7;
    pub const CREATED_AT: usize = 8;
    pub const SKU: usize = 9;
    pub const BARCODE: usize = 10;
    pub const TITLE: usize = 11;
    pub const QTY: usize = 12;
    pub const SERIALS: usize = 13;
    pub const UNIT_VALUE: usize = 14;
}

pub const RETURNS: &[FieldSpec] = &[
    FieldSpec {
        name: "rma_no",
        required: true,
        aliases: &[
            "退款编号",
            "售后单号",
            "服务单号",
            "refund_id",
            "Amazon RMA ID",
            "Merchant RMA ID",
            "rma",
            "rma_id",
            "return_id",
        ],
    },
    FieldSpec {
        name: "order_no",
        required: true,
        aliases: &["订单编号", "订单号", "tid", "order-id", "amazon-order-id", "Order ID", "order"],
    },
    FieldSpec {
        name: "tracking_no",
        required: false,
        aliases: &[
            "退货物流单号",
            "买家退货物流单号",
            "退货运单号",
            "sid",
            "Tracking ID",
            "tracking",
            "tracking_number",
            "运单号",
        ],
    },
    FieldSpec {
        name: "carrier",
        required: false,
        aliases: &["退货物流公司", "买家退货物流公司", "company_name", "Return carrier", "courier"],
    },
    FieldSpec {
        name: "customer",
        required: false,
        aliases: &["买家会员名称", "买家昵称", "customer", "buyer", "buyer_name"],
    },
    FieldSpec { name: "phone", required: false, aliases: &["手机", "联系电话", "phone", "mobile"] },
    FieldSpec {
        name: "reason",
        required: false,
        aliases: &["买家退款原因", "退款原因", "申请原因", "reason", "Return Reason"],
    },
    FieldSpec {
        name: "resolution",
        required: false,
        aliases: &["resolution", "售后类型", "处理方式", "服务类型", "requested_outcome"],
    },
    FieldSpec {
        name: "created_at",
        required: false,
        aliases: &["退款的申请时间", "return-date", "Return request date", "申请时间", "created"],
    },
    FieldSpec {
        name: "sku",
        required: true,
        aliases: &["商家编码", "商品编码", "outer_id", "sku", "Merchant SKU", "seller_sku"],
    },
    FieldSpec {
        name: "barcode",
        required: false,
        aliases: &["barcode", "ean", "upc", "gtin", "条码", "条形码"],
    },
    FieldSpec {
        name: "title",
        required: false,
        aliases: &["宝贝标题", "商品名称", "product-name", "Item Name", "title", "product_name"],
    },
    FieldSpec {
        name: "qty", required: false, aliases: &["quantity", "Return quantity", "数量", "退货数量"]
    },
    FieldSpec {
        name: "serials",
        required: false,
        aliases: &["serial", "serials", "序列号", "serial_no", "serial_numbers", "sn"],
    },
    FieldSpec {
        name: "unit_value",
        required: false,
        aliases: &["买家实际支付金额", "退款金额", "unit_value", "price", "unit_price", "value"],
    },
];

pub mod catalog {
    pub const SKU: usize = 0;
    pub const NAME: usize = 1;
    pub const BARCODES: usize = 2;
    pub const SERIALISED: usize = 3;
    pub const SUPPLIER: usize = 4;
    pub const UNIT_VALUE: usize = 5;
    pub const BOXES: usize = 6;
}

pub const CATALOG: &[FieldSpec] = &[
    FieldSpec {
        name: "sku",
        required: true,
        aliases: &["商家编码", "商品编码", "outer_id", "Merchant SKU", "seller_sku", "货号"],
    },
    FieldSpec {
        name: "name",
        required: true,
        aliases: &["title", "商品名称", "宝贝标题", "product-name", "Item Name", "product_name", "名称"],
    },
    FieldSpec {
        name: "barcodes",
        required: false,
        aliases: &["barcode", "ean", "upc", "gtin", "条码", "条形码"],
    },
    FieldSpec {
        name: "serialised",
        required: false,
        aliases: &["serialized", "serial_tracked", "序列号管理", "是否序列号管理"],
    },
    FieldSpec { name: "supplier", required: false, aliases: &["vendor", "供应商"] },
    FieldSpec {
        name: "unit_value",
        required: false,
        aliases: &["price", "unit_price", "value", "单价", "成本价"],
    },
    FieldSpec { name: "boxes", required: false, aliases: &["箱数", "包裹数", "package_count"] },
];

pub mod shipments {
    pub const SKU: usize = 0;
    pub const QTY: usize = 1;
    pub const DATE: usize = 2;
}

pub const SHIPMENTS: &[FieldSpec] = &[
    FieldSpec {
        name: "sku",
        required: true,
        aliases: &["商家编码", "sku编码", "商品编码", "merchant_sku", "seller_sku", "product_sku"],
    },
    FieldSpec {
        name: "qty",
        required: true,
        aliases: &["数量", "发货数量", "quantity", "shipped_qty", "units", "quantity_shipped"],
    },
    FieldSpec {
        name: "date",
        required: true,
        aliases: &["发货日期", "发货时间", "ship_date", "shipped_on", "shipped_at", "shipment_date", "日期"],
    },
];

pub mod users {
    pub const ID: usize = 0;
    pub const NAME: usize = 1;
    pub const ROLE: usize = 2;
    pub const PIN: usize = 3;
    pub const PIN_HASH: usize = 4;
    pub const ACTIVE: usize = 5;
}

pub const USERS: &[FieldSpec] = &[
    FieldSpec { name: "id", required: true, aliases: &["user_id", "user", "工号", "badge"] },
    FieldSpec { name: "name", required: true, aliases: &["姓名", "名字", "full_name"] },
    FieldSpec { name: "role", required: false, aliases: &["角色", "岗位"] },
    FieldSpec { name: "pin", required: false, aliases: &["密码", "口令"] },
    FieldSpec { name: "pin_hash", required: false, aliases: &[] },
    FieldSpec { name: "active", required: false, aliases: &["enabled", "在职", "启用"] },
];
