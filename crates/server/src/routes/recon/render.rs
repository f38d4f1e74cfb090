//! Reconciliation's records as the API's JSON.

use paycore_api::recon::{
    ExceptionResponse, FundResponse, HistoryResponse, RunResponse, SideResponse, StatementResponse,
    TotalsResponse,
};
use paycore_payment_store::repo::recon::{RunRecord, StatementRecord};
use paycore_recon::{Exception, Side};

fn time(ms: u64) -> String {
    crate::render::timestamp(ms.saturating_mul(1_000_000))
}

pub fn statement(s: &StatementRecord) -> StatementResponse {
    StatementResponse {
        id: s.id.clone(),
        channel: s.channel.clone(),
        date: s.day.clone(),
        format: s.format.clone(),
        sha256: s.sha256.clone(),
        lines: s.lines,
        source: s.source.clone(),
        imported_at: time(s.imported_at),
    }
}

fn side(s: &Side) -> SideResponse {
    SideResponse {
        count: s.count,
        payments: s.payments,
        refunds: s.refunds,
        fees: s.fees,
        // Checked where sides are read back (`totals_from`) and true of any sum of 64-bit
        // amounts.
        net: s.net().expect("a side's net fits in 128 bits"),
    }
}

pub fn run(r: &RunRecord) -> RunResponse {
    RunResponse {
        id: r.id.clone(),
        channel: r.channel.clone(),
        date: r.day.clone(),
        statement_id: r.statement_id.clone(),
        matched: r.matched,
        carried: r.carried,
        differences: r
            .differences
            .iter()
            .map(|(d, n)| (d.name().to_owned(), *n))
            .collect(),
        totals: TotalsResponse {
            ours: side(&r.totals.ours),
            theirs: side(&r.totals.theirs),
        },
        fund: r.fund.map(|f| FundResponse {
            statement_net: f.statement_net,
            settled: f.settled,
            difference: f.difference,
        }),
        created_at: time(r.created_at),
    }
}

pub fn exception(e: &Exception) -> ExceptionResponse {
    let json = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    ExceptionResponse {
        id: e.id.clone(),
        run_id: e.run_id.clone(),
        kind: e.kind.name().to_owned(),
        channel: e.channel.clone(),
        channel_order_no: e.channel_order_no.clone(),
        status: e.status.name().to_owned(),
        ours: json(&e.ours),
        theirs: json(&e.theirs),
        amount: e.amount,
        currency: e.currency.clone(),
        adjustment_id: e.adjustment_id.clone(),
        refund_id: e.refund_id.clone(),
        history: e
            .history
            .iter()
            .map(|h| HistoryResponse {
                at: time(h.at),
                by: h.by.clone(),
                event: h.event.clone(),
                note: h.note.clone(),
            })
            .collect(),
        created_at: time(e.created_at),
        updated_at: time(e.updated_at),
    }
}
