//! Channel statements (对账单): the daily files banks, WeChat Pay and Alipay send for
//! reconciliation (对账), read as a stream of [`StatementLine`]s and written back byte for byte
//! in the shape the readers accept.
//!
//! Pure: no network, no database, no clock. A reader holds one line of its input at a time
//! (lines longer than [`MAX_LINE_BYTES`] are refused), so a ten-million-line statement needs no
//! more memory than a ten-line one.
//!
//! # Invariants
//! - No floating point touches an amount: decimal text becomes integer minor units through
//!   `paycore_money::parse_minor`, sums are checked (`checked_add`), overflow is an error.
//! - Every [`StatementError`] names the physical line (1-based) it is about; `0` means the
//!   container (a zip archive) before any line was read.
//! - A reader never panics, whatever the bytes; after its first error it yields nothing more.
//! - A statement is in one currency; a line in another one is an error.
//!
//! # Formats
//! Columns are always found by their header names, never by position; unknown columns are
//! ignored. Lines may end in `\n` or `\r\n`; blank lines are skipped. Quoted fields follow
//! RFC 4180 (`"a,b"`, `""` for a quote) but may not span lines.
//!
//! ## `wechat` — WeChat Pay trade bill (交易账单, bill type ALL)
//! UTF-8. A detail header (交易时间,公众账号ID,…,商户订单号,…,交易状态,…,订单金额,…), detail rows
//! whose every value starts with a backtick (`` ` ``, stripped), then the summary header
//! (总交易单数,应结订单总金额,…) and exactly one summary row, also backticked.
//! - 商户订单号 → `channel_order_no`, 微信订单号 → `bank_ref`, 交易时间 → `time`,
//!   交易状态 → `status`, 货币种类 → `currency`.
//! - A row whose 交易状态 is `REFUND` is a [`LineKind::Refund`]: its amount is 退款金额 and its
//!   `refund_no` 商户退款单号. Every other row (SUCCESS, REVOKED, …) is a payment of 订单金额.
//! - 手续费 has up to five decimals. `fee_minor` is it rounded half away from zero to minor units
//!   (0.00500 → 1 fen, -0.00500 → -1 fen); refunds print the returned fee negative.
//! - The summary row is checked: 总交易单数 must equal the number of detail rows, and each of
//!   应结订单总金额, 退款总金额, 充值券退款总金额, 订单总金额, 申请退款总金额 and 手续费总金额
//!   (the last one exactly, at five decimals, before rounding) must equal the sum of its detail
//!   column, where the bill has that column. A missing, repeated or disagreeing summary is an
//!   error naming the summary line.
//!
//! ## `alipay` — Alipay trade bill (业务明细)
//! A zip archive. The detail file is the entry whose name contains 业务明细 but not 汇总, or
//! else the only `.csv` entry; names are read as UTF-8 when valid, else as GBK (Alipay does not
//! mark its names UTF-8). The entry is GBK text: `#` comment lines (#支付宝业务明细查询,
//! #账号：[…], #-----业务明细列表结束-----, #交易合计：… ) around a CSV table. Values are trimmed of
//! the tabs and spaces Alipay pads them with.
//! - 商户订单号 → `channel_order_no`, 支付宝交易号 → `bank_ref`, 完成时间 → `time`,
//!   业务类型 (交易 / 退款) → `kind`, and also `status`, as printed (the bill has no status).
//! - 订单金额（元） is the amount; refunds print it negative and read as a positive
//!   `amount_minor`. 退款批次号/请求号 is the `refund_no`.
//! - 服务费（元） is printed from the merchant's side (negative when charged), so
//!   `fee_minor` is its negation: a charged fee is positive, a returned one negative.
//! - Always CNY. The summary is computed (the archive's 汇总 file is not read).
//!
//! ## `csv` — paycore's plain CSV
//! UTF-8, header `time,channel_order_no,bank_ref,kind,status,amount,fee,currency,refund_no`
//! (`refund_no` may be left out), then one row per line, no summary row:
//! - `kind` is `payment` or `refund`; `time` is `YYYY-MM-DD HH:MM:SS`;
//! - `amount` and `fee` are decimal text in the currency's major unit with at most its
//!   minor-unit decimals (`12.34` CNY is 1234 fen, `1500` JPY is 1500 yen); `amount` is never
//!   negative, `fee` may be (a returned fee);
//! - `refund_no` is empty for payments (a payment with one is an error).
//!
//! ```text
//! time,channel_order_no,bank_ref,kind,status,amount,fee,currency,refund_no
//! 2024-03-01 10:00:00,PC0001,4200001234567890,payment,SUCCESS,12.34,0.07,CNY,
//! 2024-03-01 11:30:00,PC0001,4200001234567890,refund,REFUND,2.00,-0.01,CNY,RF0001
//! ```
//!
//! # Writing
//! [`write_statement`] writes any format from lines and returns their summary; what it writes
//! reads back as the same lines (only `line_no` is the reader's own). A line a format cannot
//! hold — a WeChat refund whose status is not `REFUND`, a character GBK lacks, a line break in
//! a value — is refused with [`WriteError`], never altered.

mod alipay;
mod amount;
mod columns;
mod error;
mod line;
mod plain;
mod reader;
mod records;
mod summary;
mod time;
mod wechat;
mod writer;

pub use error::{ErrorKind, StatementError, WriteError};
pub use line::{Format, LineKind, StatementLine, UnknownFormat};
pub use reader::StatementReader;
pub use records::MAX_LINE_BYTES;
pub use summary::StatementSummary;
pub use writer::write_statement;
