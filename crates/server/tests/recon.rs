//! Reconciliation (对账) against a real server and a real bank simulator: real payments and
//! refunds, then a statement of the day that lies in known ways — each difference found and
//! classified exactly, nothing else flagged; the same file twice is one run; a malformed file
//! is refused with its line and imports nothing; the bank's success for an order paycore holds
//! unknown is applied once (补单); people resolve the rest, money moving only through
//! adjustments a second person approves; successes near midnight are carried to the next day.

mod common;
#[path = "payments/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{quick_options, world, world_with, World};
use paycore_recon::Day;
use serde_json::{json, Value};

const SETTLE: Duration = Duration::from_secs(20);
const HEADER: &str = "time,channel_order_no,bank_ref,kind,status,amount,fee,currency,refund_no";

fn today() -> Day {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    Day::of(now)
}

fn yuan(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn payment_line(order: &str, amount: u64, status: &str) -> String {
    format!(
        "2026-12-01 10:00:00,{order},B{order},payment,{status},{},0.00,CNY,",
        yuan(amount)
    )
}

fn refund_line(paid: &str, refund_no: &str, amount: u64) -> String {
    format!(
        "2026-12-01 11:00:00,{paid},R{refund_no},refund,REFUND,{},0.00,CNY,{refund_no}",
        yuan(amount)
    )
}

fn csv(lines: &[String]) -> String {
    let mut text = String::from(HEADER);
    for line in lines {
        text.push('\n');
        text.push_str(line);
    }
    text.push('\n');
    text
}

/// Pays a new trade of `amount` on `channel`; the payment's channel order number.
async fn paid(w: &World, n: &str, amount: u64, channel: &str) -> String {
    let trade = w.trade(&format!("rc-{n}"), amount).await;
    let reply = w
        .pay(&trade, &format!("rc-p{n}"), "quickpay", Some(channel))
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body["channel_order_no"].as_str().unwrap().to_owned()
}

async fn upload(w: &World, channel: &str, day: &str, format: &str, body: &str) -> common::Reply {
    let path = format!("/v1/recon/statements?channel={channel}&date={day}&format={format}");
    w.server.post_raw(&path, body).await
}

async fn exceptions_of(w: &World, run: &str) -> Vec<Value> {
    let reply = w
        .server
        .get(&format!("/v1/recon/exceptions?run={run}"))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["exceptions"].as_array().unwrap().clone()
}

fn of_kind<'a>(exceptions: &'a [Value], kind: &str) -> Vec<&'a Value> {
    exceptions.iter().filter(|e| e["kind"] == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_difference_is_found_and_classified_exactly() {
    let w = world().await;
    w.channel("a", "sim-json", 100, json!({})).await;
    let orders: Vec<String> = {
        let mut orders = Vec::new();
        for n in 0..6 {
            orders.push(paid(&w, &n.to_string(), 1_000 + n, "a").await);
        }
        orders
    };
    let refund = w
        .server
        .post(
            "/v1/payments/rc-p0/refunds",
            json!({"id": "rc-r0", "amount": 300}),
        )
        .await;
    assert_eq!(refund.body["status"], "succeeded", "{:?}", refund.body);
    let refund_no = refund.body["channel_order_no"].as_str().unwrap();
    let day = today().iso();

    let statement = csv(&[
        payment_line(&orders[0], 1_000, "SUCCESS"),
        refund_line(&orders[0], refund_no, 300),
        payment_line(&orders[1], 1_002, "SUCCESS"), // paid 1_001: amount_mismatch
        payment_line(&orders[2], 1_002, "REVOKED"), // succeeded here: status_mismatch
        payment_line(&orders[3], 1_003, "SUCCESS"), // listed twice: duplicate
        payment_line(&orders[3], 1_003, "SUCCESS"),
        // orders[4] is not listed: missing_theirs
        payment_line(&orders[5], 1_005, "SUCCESS"),
        payment_line("X0000000000000000001", 777, "SUCCESS"), // no such order: missing_ours
    ]);
    let imported = upload(&w, "a", &day, "csv", &statement).await;
    assert_eq!(imported.status, 201, "{:?}", imported.body);
    let run = &imported.body["run"];
    assert_eq!(run["matched"], 3, "{run}");
    assert_eq!(run["carried"], 0, "{run}");
    assert_eq!(
        run["differences"],
        json!({"amount_mismatch": 1, "status_mismatch": 1, "duplicate": 1, "missing_theirs": 1, "missing_ours": 1}),
        "{run}"
    );
    assert_eq!(
        run["totals"]["ours"]["count"], 7,
        "six payments and a refund: {run}"
    );
    assert_eq!(run["totals"]["theirs"]["count"], 8);
    assert_eq!(run["totals"]["theirs"]["refunds"], 300);
    let run_id = run["id"].as_str().unwrap().to_owned();

    let exceptions = exceptions_of(&w, &run_id).await;
    assert_eq!(exceptions.len(), 5);
    assert!(
        exceptions.iter().all(|e| e["status"] == "open"),
        "{exceptions:?}"
    );
    let mismatch = of_kind(&exceptions, "amount_mismatch")[0];
    assert_eq!(
        (
            mismatch["channel_order_no"].as_str(),
            mismatch["amount"].as_u64()
        ),
        (Some(orders[1].as_str()), Some(1))
    );
    let missing = of_kind(&exceptions, "missing_theirs")[0];
    assert_eq!(
        (missing["channel_order_no"].as_str(), &missing["theirs"]),
        (Some(orders[4].as_str()), &Value::Null)
    );
    let extra = of_kind(&exceptions, "missing_ours")[0];
    assert_eq!(
        (&extra["ours"], extra["amount"].as_u64()),
        (&Value::Null, Some(777))
    );

    // The same file again is the same run; nothing new is flagged.
    let again = upload(&w, "a", &day, "csv", &statement).await;
    assert_eq!(
        (again.status.as_u16(), &again.body["run"]["id"]),
        (200, &json!(run_id))
    );
    assert_eq!(exceptions_of(&w, &run_id).await.len(), 5);
    let shown = w.server.get(&format!("/v1/recon/runs/{run_id}")).await;
    assert_eq!(shown.body["differences"], run["differences"]);
    let report = w
        .server
        .get(&format!("/v1/recon/report?channel=a&date={day}"))
        .await
        .body;
    assert_eq!(
        report["exceptions"]["duplicate"]["open"]["count"], 1,
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_statement_is_refused_with_its_line_and_imports_nothing() {
    let w = world().await;
    w.channel("a", "sim-json", 100, json!({})).await;
    let order = paid(&w, "m", 1_000, "a").await;
    let day = today().iso();
    let bad_amount = csv(&[
        payment_line(&order, 1_000, "SUCCESS"),
        format!("2026-12-01 10:00:00,{order}x,B,payment,SUCCESS,12.345,0.00,CNY,"),
    ]);
    let refused = upload(&w, "a", &day, "csv", &bad_amount).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (422, "invalid_statement"),
        "{:?}",
        refused.body
    );
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 3"),
        "{:?}",
        refused.body
    );
    let no_column = "time,channel_order_no,kind,status,amount,fee,currency\n";
    let refused = upload(&w, "a", &day, "csv", no_column).await;
    assert_eq!(refused.code(), "invalid_statement", "{:?}", refused.body);
    let zip = upload(&w, "a", &day, "alipay", "PK\u{3}\u{4} truncated").await;
    assert_eq!(zip.code(), "invalid_statement", "{:?}", zip.body);
    let bad_day = upload(&w, "a", "2026-02-30", "csv", HEADER).await;
    assert_eq!(
        (bad_day.status.as_u16(), bad_day.code()),
        (400, "invalid_field")
    );
    let unknown = upload(&w, "nowhere", &day, "csv", HEADER).await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
    let runs = w.server.get("/v1/recon/runs").await.body;
    assert_eq!(runs["runs"], json!([]), "nothing imported: {runs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_banks_success_for_an_unknown_payment_is_applied_once() {
    let w = world().await;
    // Held past the timeout and never called back: paycore holds it unknown.
    let held = json!({"success_pct": 0, "fail_pct": 0, "timeout_pct": 100, "timeout_hold_ms": 5_000, "callback": "none"});
    w.channel("held", "sim-json", 100, held).await;
    let trade = w.trade("rc-u", 2_000).await;
    let reply = w.pay(&trade, "rc-pu", "quickpay", Some("held")).await;
    assert_eq!(reply.body["status"], "unknown", "{:?}", reply.body);
    let order = reply.body["channel_order_no"].as_str().unwrap().to_owned();

    let statement = csv(&[payment_line(&order, 2_000, "SUCCESS")]);
    let imported = upload(&w, "held", &today().iso(), "csv", &statement).await;
    assert_eq!(imported.status, 201, "{:?}", imported.body);
    assert_eq!(
        imported.body["run"]["differences"],
        json!({"missing_ours": 1})
    );
    let run_id = imported.body["run"]["id"].as_str().unwrap().to_owned();
    let exception = &exceptions_of(&w, &run_id).await[0];
    assert_eq!(exception["status"], "closed", "补单 closes it: {exception}");
    let events: Vec<_> = exception["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].clone())
        .collect();
    assert_eq!(events, [json!("opened"), json!("closed")]);
    let payment = w.settled("rc-pu", SETTLE).await;
    assert_eq!(payment["status"], "succeeded", "{payment}");
    assert_eq!(
        w.balance("M-shop").await,
        2_000 - 12,
        "posted once, net of the fee"
    );
    w.server.assert_books_balance().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_resolve_the_rest_and_money_moves_only_through_approved_adjustments() {
    let w = world().await;
    w.channel("a", "sim-json", 100, json!({})).await;
    let orders = [
        paid(&w, "0", 1_000, "a").await,
        paid(&w, "1", 1_500, "a").await,
    ];
    let statement = csv(&[
        payment_line(&orders[0], 1_000, "SUCCESS"),
        payment_line(&orders[0], 1_000, "SUCCESS"),
        // orders[1] missing on their side
    ]);
    let imported = upload(&w, "a", &today().iso(), "csv", &statement).await;
    let run_id = imported.body["run"]["id"].as_str().unwrap().to_owned();
    let exceptions = exceptions_of(&w, &run_id).await;
    let duplicate = of_kind(&exceptions, "duplicate")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = of_kind(&exceptions, "missing_theirs")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (li, wang) = (
        w.server.key_of("li", "li", "operator").await,
        w.server.key_of("wang", "wang", "operator").await,
    );
    let resolve = |id: &str| format!("/v1/recon/exceptions/{id}/resolve");

    let wrong = w
        .server
        .post_as(
            &li,
            &resolve(&missing),
            json!({"action": "supplement", "reason": "x"}),
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (409, "action_not_applicable")
    );
    let no_reason = w
        .server
        .post_as(
            &li,
            &resolve(&missing),
            json!({"action": "write_off", "reason": " "}),
        )
        .await;
    assert_eq!(no_reason.status, 400, "{:?}", no_reason.body);
    let before = w.balance("CLR-a-CNY").await;
    let written = w
        .server
        .post_as(
            &li,
            &resolve(&missing),
            json!({"action": "write_off", "reason": "the bank lost it"}),
        )
        .await;
    assert_eq!(written.status, 200, "{:?}", written.body);
    assert_eq!(written.body["status"], "resolving");
    let adjustment = written.body["adjustment_id"].as_str().unwrap().to_owned();
    assert_eq!(
        w.balance("CLR-a-CNY").await,
        before,
        "nothing moves before a second person approves"
    );
    let own = w
        .server
        .post_as(
            &li,
            &format!("/v1/adjustments/{adjustment}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(own.code(), "maker_checker_violation");
    let approved = w
        .server
        .post_as(
            &wang,
            &format!("/v1/adjustments/{adjustment}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(approved.body["status"], "posted", "{:?}", approved.body);
    let closed = w
        .server
        .get(&format!("/v1/recon/exceptions/{missing}"))
        .await
        .body;
    assert_eq!(closed["status"], "closed", "{closed}");
    assert_eq!(w.balance("CLR-a-CNY").await, before + 1_500);
    assert_eq!(w.balance("RECON-LOSS-CNY").await, -1_500);

    let accepted = w
        .server
        .post_as(
            &li,
            &resolve(&duplicate),
            json!({"action": "accept", "reason": "printed twice by the bank"}),
        )
        .await;
    assert_eq!(accepted.body["status"], "closed", "{:?}", accepted.body);
    let twice = w
        .server
        .post_as(
            &li,
            &resolve(&duplicate),
            json!({"action": "accept", "reason": "again"}),
        )
        .await;
    assert_eq!(
        (twice.status.as_u16(), twice.code()),
        (409, "exception_closed")
    );
    let open = w.server.get("/v1/recon/exceptions?status=open").await.body;
    assert_eq!(open["exceptions"], json!([]), "{open}");
    w.server.assert_books_balance().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_near_midnight_is_carried_and_matched_the_next_day() {
    let mut options = quick_options();
    // Every success counts as near midnight here, so the carry is exercised at any hour.
    options.recon_carry_window = Duration::from_secs(86_400);
    let w = world_with(options).await;
    w.channel("a", "sim-json", 100, json!({})).await;
    let orders = [
        paid(&w, "0", 1_000, "a").await,
        paid(&w, "1", 1_100, "a").await,
    ];
    let day = today();
    let first = upload(&w, "a", &day.iso(), "csv", &csv(&[])).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(
        (
            first.body["run"]["carried"].as_u64(),
            &first.body["run"]["differences"]
        ),
        (Some(2), &json!({}))
    );

    // The channel dates one of them on the next day; the other never appears.
    let next = csv(&[payment_line(&orders[0], 1_000, "SUCCESS")]);
    let second = upload(&w, "a", &day.next().iso(), "csv", &next).await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    let run = &second.body["run"];
    assert_eq!(run["matched"], 1, "{run}");
    assert_eq!(run["differences"], json!({"missing_theirs": 1}), "{run}");
    let exceptions = exceptions_of(&w, run["id"].as_str().unwrap()).await;
    assert_eq!(
        exceptions[0]["channel_order_no"].as_str(),
        Some(orders[1].as_str())
    );
}

/// Real traffic, then the simulator's own statement with every fault kind injected, fetched by
/// paycore through the channel: each fault is found as its difference, on exactly the orders
/// the simulator says it lied about, nothing else; the fund check shows the short settlement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_lies_are_found_exactly() {
    let mut options = quick_options();
    options.recon_carry_window = Duration::ZERO;
    let w = world_with(options).await;
    w.channel("f", "sim-json", 100, json!({})).await;
    let mut orders = Vec::new();
    for n in 0..40 {
        orders.push(paid(&w, &format!("f{n}"), 1_000 + n, "f").await);
    }
    for n in 0..6 {
        let refund = w
            .server
            .post(
                &format!("/v1/payments/rc-pf{n}/refunds"),
                json!({"id": format!("rc-rf{n}"), "amount": 100}),
            )
            .await;
        assert_eq!(refund.body["status"], "succeeded", "{:?}", refund.body);
    }
    let faults = json!({"drop_pct": 10, "amount_pct": 10, "status_pct": 10, "duplicate_pct": 10, "extra_pct": 5, "settlement_short": 123});
    let put = w
        .http
        .put(format!("{}/sim/channels/f/statement-faults", w.sim))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());

    let day = today().iso();
    // The same day in each format the channel serves: the same differences every time.
    for format in ["csv", "wechat", "alipay"] {
        let run = w
            .server
            .post(
                "/v1/recon/runs",
                json!({"channel": "f", "date": day, "format": format}),
            )
            .await;
        assert_eq!(run.status, 201, "{format}: {:?}", run.body);
        the_lies_are_found_in(&w, &day, run.body).await;
    }
}

async fn the_lies_are_found_in(w: &World, day: &str, run: Value) {
    let truth: Value = w
        .http
        .get(format!("{}/sim/channels/f/statements/{day}/truth", w.sim))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected_kind = |fault: &str| match fault {
        "drop" => "missing_theirs",
        "amount" => "amount_mismatch",
        "status" => "status_mismatch",
        "duplicate" => "duplicate",
        "extra" => "missing_ours",
        other => panic!("fault {other} not injected here"),
    };
    let mut expected: Vec<(String, String)> = truth["faults"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(order, fault)| {
            (
                expected_kind(fault.as_str().unwrap()).to_owned(),
                order.clone(),
            )
        })
        .collect();
    expected.sort();
    assert!(expected.len() >= 5, "the faults were exercised: {truth}");
    let mut found: Vec<(String, String)> = exceptions_of(w, run["id"].as_str().unwrap())
        .await
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["channel_order_no"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(found, expected, "run {run}\ntruth {truth}");
    let true_lines = truth["lines"].as_u64().unwrap();
    let faulted_true_lines = expected
        .iter()
        .filter(|(kind, _)| kind != "missing_ours")
        .count() as u64;
    assert_eq!(
        run["matched"].as_u64().unwrap(),
        true_lines - faulted_true_lines,
        "{run}"
    );
    assert_eq!(true_lines, 46, "40 payments and 6 refunds");

    let fund = &run["fund"];
    let ours_net = run["totals"]["ours"]["net"].as_i64().unwrap();
    assert_eq!(fund["settled"].as_i64(), Some(ours_net - 123), "{run}");
    assert_eq!(
        fund["difference"].as_i64(),
        Some(fund["settled"].as_i64().unwrap() - fund["statement_net"].as_i64().unwrap())
    );
    assert_ne!(fund["difference"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_goes_back_through_the_channel_and_a_reversed_duplicate_closes_itself() {
    let w = world().await;
    w.channel("a", "sim-json", 100, json!({})).await;
    let twice = paid(&w, "r0", 1_000, "a").await;
    let reversed = paid(&w, "r1", 2_000, "a").await;
    let reversal = format!("2026-12-01 11:00:00,{reversed},RX,refund,REFUND,20.00,0.00,CNY,");
    let statement = csv(&[
        payment_line(&twice, 1_000, "SUCCESS"),
        payment_line(&twice, 1_000, "SUCCESS"),
        payment_line(&reversed, 2_000, "SUCCESS"),
        payment_line(&reversed, 2_000, "SUCCESS"),
        reversal,
        payment_line("ghost-1", 500, "SUCCESS"),
    ]);
    let clearing = w.balance("CLR-a-CNY").await;
    let imported = upload(&w, "a", &today().iso(), "csv", &statement).await;
    assert_eq!(imported.status, 201, "{:?}", imported.body);
    let run_id = imported.body["run"]["id"].as_str().unwrap().to_owned();
    let exceptions = exceptions_of(&w, &run_id).await;
    let duplicates = of_kind(&exceptions, "duplicate");
    assert_eq!(duplicates.len(), 2, "{exceptions:?}");
    let (auto, manual): (Vec<_>, Vec<_>) = duplicates
        .into_iter()
        .partition(|e| e["channel_order_no"] == reversed.as_str());
    assert_eq!(
        auto[0]["status"], "closed",
        "the channel reversed it itself"
    );
    assert_eq!(auto[0]["history"][1]["by"], "system");
    let manual = manual[0]["id"].as_str().unwrap().to_owned();
    let ghost = of_kind(&exceptions, "missing_ours")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let li = w.server.key_of("li", "li", "operator").await;
    let resolve = |id: &str| format!("/v1/recon/exceptions/{id}/resolve");

    let nothing_to_refund = w
        .server
        .post_as(
            &li,
            &resolve(&ghost),
            json!({"action": "refund", "reason": "not ours"}),
        )
        .await;
    assert_eq!(
        (nothing_to_refund.status.as_u16(), nothing_to_refund.code()),
        (409, "action_not_applicable"),
        "{:?}",
        nothing_to_refund.body
    );
    let refunded = w
        .server
        .post_as(
            &li,
            &resolve(&manual),
            json!({"action": "refund", "reason": "charged twice"}),
        )
        .await;
    assert_eq!(refunded.status, 200, "{:?}", refunded.body);
    let refund_id = refunded.body["refund_id"].as_str().unwrap().to_owned();
    let closed = wait_for_status(&w, &manual, "closed").await;
    assert_eq!(closed["refund_id"], refund_id.as_str(), "{closed}");
    let refund = w.server.get(&format!("/v1/refunds/{refund_id}")).await.body;
    assert_eq!(
        (refund["status"].as_str(), refund["amount"].as_u64()),
        (Some("succeeded"), Some(1_000)),
        "{refund}"
    );
    assert_eq!(
        w.balance("CLR-a-CNY").await,
        clearing,
        "the receipt and its return net to nothing"
    );
    assert_eq!(w.balance("PAY-SUSPENSE-CNY").await, 0);
    let again = w
        .server
        .post_as(
            &li,
            &resolve(&manual),
            json!({"action": "refund", "reason": "again"}),
        )
        .await;
    assert_eq!(again.code(), "exception_closed");
    w.server.assert_books_balance().await;
}

async fn wait_for_status(w: &World, exception: &str, status: &str) -> Value {
    let deadline = std::time::Instant::now() + SETTLE;
    loop {
        let e = w
            .server
            .get(&format!("/v1/recon/exceptions/{exception}"))
            .await
            .body;
        if e["status"] == status || std::time::Instant::now() > deadline {
            assert_eq!(e["status"], status, "{e}");
            return e;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_serves_no_statement_is_unavailable_not_an_error() {
    let w = world().await;
    // Nothing listens on port 9: the statement cannot be fetched.
    let added = w
        .server
        .post(
            "/v1/channels",
            json!({"id": "gone", "protocol": "sim-json", "endpoint": "http://127.0.0.1:9",
                "secret": "s", "methods": ["quickpay"], "currencies": ["CNY"], "weight": 100}),
        )
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let run = w
        .server
        .post(
            "/v1/recon/runs",
            json!({"channel": "gone", "date": today().iso()}),
        )
        .await;
    assert_eq!(
        (run.status.as_u16(), run.code()),
        (503, "channel_unavailable"),
        "{:?}",
        run.body
    );
    let runs = w.server.get("/v1/recon/runs").await.body;
    assert_eq!(runs["runs"], json!([]), "nothing imported, nothing run");
}

/// Each amount fits in 64 bits, a day's sums need not: a payment of i64::MAX, its full refund
/// and a second payment of i64::MAX (the ledger's balances stay in range, the channel's day
/// of payments does not), against a statement that also lists an unknown payment of 1, so its
/// payments sum to u64::MAX (a statement's parser refuses totals past u64 with the line) and
/// its net passes i64. Both sides' totals and the fund check are exact, stored and read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_past_64_bits_are_exact() {
    const MAX: u64 = i64::MAX as u64;
    let w = world().await;
    w.channel("w", "sim-json", 100, json!({})).await;
    let merchant = w
        .server
        .post(
            "/v1/merchants",
            json!({"id": "whale", "name": "Whale", "callback_hosts": ["127.0.0.1"], "fee_rate_bp": 0}),
        )
        .await;
    assert_eq!(merchant.status, 201, "{:?}", merchant.body);
    let mut orders = Vec::new();
    for n in 0..2 {
        if n == 1 {
            let refund = w
                .server
                .post(
                    "/v1/payments/rc-pw0/refunds",
                    json!({"id": "rc-rw0", "amount": MAX}),
                )
                .await;
            assert_eq!(refund.body["status"], "succeeded", "{:?}", refund.body);
            orders.push(refund.body["channel_order_no"].as_str().unwrap().to_owned());
        }
        let trade = w
            .server
            .post(
                "/v1/trades",
                json!({"merchant": "whale", "merchant_order_no": format!("rc-w{n}"), "amount": MAX, "currency": "CNY"}),
            )
            .await;
        assert_eq!(trade.status, 201, "{:?}", trade.body);
        let trade = trade.body["trade_id"].as_str().unwrap();
        let pay = w
            .pay(trade, &format!("rc-pw{n}"), "quickpay", Some("w"))
            .await;
        assert_eq!(pay.body["status"], "succeeded", "{:?}", pay.body);
        orders.push(pay.body["channel_order_no"].as_str().unwrap().to_owned());
    }
    let statement = csv(&[
        payment_line(&orders[0], MAX, "SUCCESS"),
        refund_line(&orders[0], &orders[1], MAX),
        payment_line(&orders[2], MAX, "SUCCESS"),
        payment_line("X0000000000000000002", 1, "SUCCESS"), // missing_ours
    ]);
    let imported = upload(&w, "w", &today().iso(), "csv", &statement).await;
    assert_eq!(imported.status, 201, "{:?}", imported.body);
    let id = imported.body["run"]["id"].as_str().unwrap();
    assert_eq!(imported.body["run"]["differences"]["missing_ours"], 1);

    // Read as the API's own type: a serde_json::Value would make these f64 and round them.
    let text = w.server.get_text(&format!("/v1/recon/runs/{id}")).await;
    let run: paycore_api::recon::RunResponse = serde_json::from_str(&text).unwrap();
    let max = u128::from(MAX);
    let (ours, theirs) = (&run.totals.ours, &run.totals.theirs);
    assert_eq!(
        (ours.count, ours.payments, ours.refunds),
        (3, 2 * max, max),
        "{text}"
    );
    assert_eq!((ours.fees, ours.net), (0, max as i128), "{text}");
    let theirs_totals = (theirs.count, theirs.payments, theirs.refunds);
    assert_eq!(theirs_totals, (4, u128::from(u64::MAX), max), "{text}");
    assert_eq!(theirs.net, max as i128 + 1, "{text}");
    // The bank settled what it processed (i64::MAX); the statement lists 1 more.
    let fund = run
        .fund
        .as_ref()
        .expect("the simulator serves a settlement");
    let fund = (fund.statement_net, fund.settled, fund.difference);
    assert_eq!(fund, (max as i128 + 1, i64::MAX, -1), "{text}");
    w.server.assert_books_balance().await;
}
