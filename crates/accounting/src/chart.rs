//! The chart of accounts (会计科目): three levels of numeric codes (4, 6 and 8 digits), each
//! account with its class and normal balance side. Pure data and rules; storage is `db.rs`.

use serde::{Deserialize, Serialize};

/// Account class (科目类别).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Asset,
    Liability,
    Equity,
    /// 共同类: clearing and suspense accounts whose balance may sit on either side.
    Common,
    Income,
    Expense,
}

impl Class {
    pub const ALL: [Class; 6] = [
        Class::Asset,
        Class::Liability,
        Class::Equity,
        Class::Common,
        Class::Income,
        Class::Expense,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Asset => "asset",
            Class::Liability => "liability",
            Class::Equity => "equity",
            Class::Common => "common",
            Class::Income => "income",
            Class::Expense => "expense",
        }
    }

    pub fn parse(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A side of a voucher line, and an account's normal balance side (余额方向).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Debit,
    Credit,
}

impl Side {
    pub const ALL: [Side; 2] = [Side::Debit, Side::Credit];

    pub fn name(self) -> &'static str {
        match self {
            Side::Debit => "debit",
            Side::Credit => "credit",
        }
    }

    pub fn parse(name: &str) -> Option<Side> {
        Side::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One account of the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlAccount {
    pub code: String,
    pub name: String,
    pub class: Class,
    pub side: Side,
    pub enabled: bool,
}

impl GlAccount {
    pub fn level(&self) -> u8 {
        level_of(&self.code).expect("chart codes are validated")
    }

    pub fn parent(&self) -> Option<&str> {
        parent_of(&self.code)
    }
}

/// 1, 2 or 3 for a 4-, 6- or 8-digit code; `None` for anything else.
pub fn level_of(code: &str) -> Option<u8> {
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match code.len() {
        4 => Some(1),
        6 => Some(2),
        8 => Some(3),
        _ => None,
    }
}

/// The code one level up (`10020101` → `100201` → `1002`), if any.
pub fn parent_of(code: &str) -> Option<&str> {
    match level_of(code)? {
        1 => None,
        _ => Some(&code[..code.len() - 2]),
    }
}

/// The code and its ancestors, itself first.
pub fn with_ancestors(code: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(code), |c| parent_of(c))
}

/// The chart a payment institution starts with (可编辑): reserve-fund bank deposits, customer
/// funds payable, pending settlement, suspense, fee income, channel cost and the rest.
pub fn default_chart() -> Vec<GlAccount> {
    use Class::*;
    use Side::*;
    let rows: &[(&str, &str, Class, Side)] = &[
        ("1002", "银行存款", Asset, Debit),
        ("100201", "备付金存款", Asset, Debit),
        ("10020101", "备付金存款-合作银行", Asset, Debit),
        ("10020102", "备付金存款-备用银行", Asset, Debit),
        ("100202", "自有资金存款", Asset, Debit),
        ("10020201", "自有资金存款-基本户", Asset, Debit),
        ("1122", "应收账款", Asset, Debit),
        ("112201", "应收渠道款", Asset, Debit),
        ("11220101", "应收渠道款-默认渠道", Asset, Debit),
        ("1221", "其他应收款", Asset, Debit),
        ("122101", "应收商户垫付款", Asset, Debit),
        ("12210101", "应收商户垫付款-默认", Asset, Debit),
        ("2201", "应付客户备付金", Liability, Credit),
        ("220101", "个人客户备付金", Liability, Credit),
        ("22010101", "个人客户余额", Liability, Credit),
        ("220102", "商户备付金", Liability, Credit),
        ("22010201", "商户待结算款", Liability, Credit),
        ("2202", "应付账款", Liability, Credit),
        ("220201", "应付渠道款", Liability, Credit),
        ("22020101", "应付渠道款-默认渠道", Liability, Credit),
        ("2221", "应交税费", Liability, Credit),
        ("222101", "应交增值税", Liability, Credit),
        ("22210101", "应交增值税-销项税额", Liability, Credit),
        ("3001", "待清算款项", Common, Debit),
        ("300101", "渠道待清算款项", Common, Debit),
        ("30010101", "渠道待清算款项-默认渠道", Common, Debit),
        ("3002", "暂收暂付款", Common, Debit),
        ("300201", "中间过渡户", Common, Debit),
        ("30020101", "中间过渡户-交易过渡", Common, Debit),
        ("4001", "实收资本", Equity, Credit),
        ("400101", "股东投入", Equity, Credit),
        ("40010101", "股东投入-普通股", Equity, Credit),
        ("4103", "本年利润", Equity, Credit),
        ("410301", "本年利润", Equity, Credit),
        ("41030101", "本年利润-结转", Equity, Credit),
        ("6021", "手续费收入", Income, Credit),
        ("602101", "支付手续费收入", Income, Credit),
        ("60210101", "支付手续费收入-交易手续费", Income, Credit),
        ("6051", "其他业务收入", Income, Credit),
        ("605101", "其他业务收入", Income, Credit),
        ("60510101", "其他业务收入-其他", Income, Credit),
        ("6421", "渠道成本", Expense, Debit),
        ("642101", "渠道手续费支出", Expense, Debit),
        ("64210101", "渠道手续费支出-默认渠道", Expense, Debit),
        ("6602", "管理费用", Expense, Debit),
        ("660201", "营销费用", Expense, Debit),
        ("66020101", "营销费用-用户补贴", Expense, Debit),
        ("6711", "营业外支出", Expense, Debit),
        ("671101", "差错损失", Expense, Debit),
        ("67110101", "差错损失-赔付", Expense, Debit),
    ];
    rows.iter()
        .map(|&(code, name, class, side)| GlAccount {
            code: code.to_owned(),
            name: name.to_owned(),
            class,
            side,
            enabled: true,
        })
        .collect()
}

/// The chart in memory, by code.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    accounts: std::collections::BTreeMap<String, GlAccount>,
}

impl Chart {
    pub fn new(accounts: Vec<GlAccount>) -> Chart {
        Chart {
            accounts: accounts.into_iter().map(|a| (a.code.clone(), a)).collect(),
        }
    }

    pub fn get(&self, code: &str) -> Option<&GlAccount> {
        self.accounts.get(code)
    }

    /// Accounts in code order (a parent right before its children).
    pub fn accounts(&self) -> impl Iterator<Item = &GlAccount> {
        self.accounts.values()
    }

    pub fn has_children(&self, code: &str) -> bool {
        self.accounts
            .range(code.to_owned()..)
            .nth(1)
            .is_some_and(|(child, _)| child.starts_with(code))
    }

    /// Vouchers may post to enabled accounts without children (明细科目).
    pub fn postable(&self, code: &str) -> Result<(), String> {
        let account = self
            .get(code)
            .ok_or_else(|| format!("account {code} is not in the chart"))?;
        if !account.enabled {
            return Err(format!("account {code} is disabled"));
        }
        if self.has_children(code) {
            return Err(format!(
                "account {code} has sub-accounts; post to one of them"
            ));
        }
        Ok(())
    }

    pub fn insert(&mut self, account: GlAccount) {
        self.accounts.insert(account.code.clone(), account);
    }

    pub fn remove(&mut self, code: &str) {
        self.accounts.remove(code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_chart_is_a_tree_of_three_levels() {
        let chart = default_chart();
        for account in &chart {
            assert!(level_of(&account.code).is_some(), "{}", account.code);
            if let Some(parent) = account.parent() {
                let parent = chart.iter().find(|a| a.code == parent).expect("parent");
                assert_eq!(parent.class, account.class, "{}", account.code);
            }
        }
        assert_eq!(
            with_ancestors("10020101").collect::<Vec<_>>(),
            ["10020101", "100201", "1002"]
        );
        assert_eq!(level_of("10a2"), None);
        assert_eq!(level_of("10020"), None);
    }
}
