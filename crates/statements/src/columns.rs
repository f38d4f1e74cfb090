//! Finding columns by their header names, and the checks every row of a table gets.

use paycore_money::Currency;

use crate::records::Record;
use crate::{ErrorKind, StatementError};

/// A column a format reads, with the other spellings channels have used for its header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
}

impl Column {
    pub(crate) const fn new(name: &'static str) -> Column {
        Column { name, aliases: &[] }
    }

    pub(crate) const fn aka(name: &'static str, aliases: &'static [&'static str]) -> Column {
        Column { name, aliases }
    }

    fn matches(&self, header: &str) -> bool {
        header == self.name || self.aliases.contains(&header)
    }
}

/// The index of `column` in `header` (names compared after trimming whitespace), if any.
pub(crate) fn find(header: &Record, column: Column) -> Option<usize> {
    header.iter().position(|name| column.matches(name.trim()))
}

/// The index of `column`, or a `MissingColumn` error naming it and the table (`what`).
pub(crate) fn require(
    header: &Record,
    column: Column,
    what: &str,
) -> Result<usize, StatementError> {
    find(header, column).ok_or_else(|| {
        StatementError::new(
            ErrorKind::MissingColumn,
            header.line(),
            format!("the {what} header has no {} column", column.name),
        )
    })
}

/// Refuses a row whose field count differs from its header's.
pub(crate) fn check_width(row: &Record, width: usize, what: &str) -> Result<(), StatementError> {
    if row.len() == width {
        return Ok(());
    }
    Err(StatementError::new(
        ErrorKind::FieldCount,
        row.line(),
        format!(
            "the {what} row has {} fields but its header has {width}",
            row.len()
        ),
    ))
}

/// Refuses an empty identifier (an order number, a reference): nothing could match it.
pub(crate) fn non_empty<'r>(
    value: &'r str,
    column: &str,
    line: u64,
) -> Result<&'r str, StatementError> {
    if value.is_empty() {
        return Err(StatementError::new(
            ErrorKind::InvalidValue,
            line,
            format!("{column} is empty"),
        ));
    }
    Ok(value)
}

/// Refuses a time that is not `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn timestamp<'r>(
    value: &'r str,
    column: &str,
    line: u64,
) -> Result<&'r str, StatementError> {
    if crate::time::is_timestamp(value) {
        return Ok(value);
    }
    let reason = format!("{column} {value:?} is not a time of the form YYYY-MM-DD HH:MM:SS");
    Err(StatementError::new(ErrorKind::InvalidValue, line, reason))
}

/// Currency codes to currencies, the previous row's reused without a table lookup.
#[derive(Debug, Default)]
pub(crate) struct Currencies {
    last: Option<Currency>,
}

impl Currencies {
    pub(crate) fn get(
        &mut self,
        code: &str,
        column: &str,
        line: u64,
    ) -> Result<Currency, StatementError> {
        if let Some(last) = self.last.filter(|c| c.code() == code) {
            return Ok(last);
        }
        let currency = Currency::from_code(code).map_err(|err| {
            StatementError::new(ErrorKind::InvalidValue, line, format!("{column}: {err}"))
        })?;
        self.last = Some(currency);
        Ok(currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_columns_by_name_and_alias() {
        let header = Record::parse(4, "a, 订单金额(元) ,b");
        let amount = Column::aka("订单金额（元）", &["订单金额(元)"]);
        assert_eq!(find(&header, amount), Some(1));
        let err = require(&header, Column::new("服务费（元）"), "Alipay detail").unwrap_err();
        assert_eq!((err.kind, err.line), (ErrorKind::MissingColumn, 4));
        assert_eq!(
            err.reason,
            "the Alipay detail header has no 服务费（元） column"
        );
    }

    #[test]
    fn checks_width_and_values() {
        let row = Record::parse(7, "a,b");
        assert!(check_width(&row, 2, "detail").is_ok());
        let err = check_width(&row, 3, "detail").unwrap_err();
        assert_eq!((err.kind, err.line), (ErrorKind::FieldCount, 7));
        assert_eq!(
            non_empty("", "商户订单号", 5).unwrap_err().kind,
            ErrorKind::InvalidValue
        );
        assert_eq!(timestamp("2024-01-01", "交易时间", 5).unwrap_err().line, 5);
        let mut currencies = Currencies::default();
        assert_eq!(currencies.get("JPY", "货币种类", 1), Ok(Currency::JPY));
        assert_eq!(currencies.get("JPY", "货币种类", 2), Ok(Currency::JPY));
        let err = currencies.get("RMB", "货币种类", 3).unwrap_err();
        assert_eq!((err.kind, err.line), (ErrorKind::InvalidValue, 3));
        assert!(err.reason.starts_with("货币种类: "), "{err}");
    }
}
