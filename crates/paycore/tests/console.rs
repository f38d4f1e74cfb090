//! The operator console in a real headless Chromium, driven through WebDriver (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them), against `paycore serve` and
//! `paycore channel-sim` as real processes: sign in; find an account and page through its
//! statement; download it as CSV; create an adjustment as one operator, see it refused for
//! that operator and approve it as another; retry a dead notification; resolve a
//! reconciliation exception; read the trial balance. Every step saves a screenshot under
//! the test's output directory (`target/tmp/console/`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, start, Process};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const KEY: &str = "pck_console_admin";
const WAIT: Duration = Duration::from_secs(15);
const ENTRIES: usize = 120;

/// chromedriver on a free port, once it accepts connections.
fn chromedriver() -> Process {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (Debian: apt-get install chromium chromium-driver; .ci/run does)");
    let deadline = Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}");
    Process { child, url }
}

async fn browser(driver: &str, profile: &Path, downloads: &Path) -> Client {
    let options = json!({
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
            format!("--user-data-dir={}", profile.display())],
        "prefs": {"download.default_directory": downloads.display().to_string(),
            "download.prompt_for_download": false},
    });
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(driver)
        .await
        .expect("a Chromium session")
}

/// The API, as the test's own setup uses it.
struct Api {
    http: reqwest::Client,
    url: String,
}

impl Api {
    async fn call(&self, method: &str, path: &str, key: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call("POST", path, KEY, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call("GET", path, KEY, None).await
    }
}

/// Two customer accounts with a statement of `ENTRIES` entries, operators li and wang, a
/// paid trade whose notification cannot be delivered, and a statement line paycore lacks.
async fn set_up(api: &Api, sim: &str) -> (String, String, String) {
    for no in ["CONSOLE-A", "CONSOLE-B"] {
        api.post(
            "/v1/accounts",
            json!({"account_no": no, "type": "customer", "currency": "CNY"}),
        )
        .await;
    }
    for i in 0..ENTRIES {
        api.post(
            "/v1/deposits",
            json!({"id": format!("dep-{i}"), "account": "CONSOLE-A", "amount": 10_000 + i, "currency": "CNY"}),
        )
        .await;
    }
    // CONSOLE-B: funded, then hot (buffered), with one active hold and one released.
    api.post(
        "/v1/deposits",
        json!({"id": "dep-b", "account": "CONSOLE-B", "amount": 5_000, "currency": "CNY"}),
    )
    .await;
    api.call(
        "PUT",
        "/v1/accounts/CONSOLE-B/hot",
        KEY,
        Some(json!({"mode": "buffered", "flush_interval_ms": 500, "max_entries": 100})),
    )
    .await;
    for hold in ["hold-kept", "hold-released"] {
        let placed = api
            .post(
                "/v1/holds",
                json!({"id": hold, "account": "CONSOLE-B", "amount": 1_200, "currency": "CNY"}),
            )
            .await;
        assert_eq!(placed["status"], "active", "{placed}");
    }
    api.post("/v1/holds/hold-released/release", json!({})).await;
    let mut keys = Vec::new();
    for person in ["li", "wang"] {
        let key = api
            .post(
                "/v1/keys",
                json!({"name": person, "operator": person, "role": "operator"}),
            )
            .await;
        keys.push(key["key"].as_str().unwrap().to_owned());
    }
    let secret = "console-secret";
    let put = api
        .http
        .put(format!("{sim}/sim/channels/ok"))
        .json(&json!({"protocol": "sim-json", "secret": secret}))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    api.post(
        "/v1/channels",
        json!({"id": "ok", "protocol": "sim-json", "endpoint": sim,
        "secret": secret, "methods": ["quickpay"], "currencies": ["CNY"], "weight": 100}),
    )
    .await;
    api.post(
        "/v1/merchants",
        json!({"id": "shop", "name": "Shop", "callback_hosts": ["127.0.0.1"]}),
    )
    .await;
    // Port 9 (discard) refuses: the notification dies after the schedule's one retry.
    let trade = api
        .post(
            "/v1/trades",
            json!({"merchant": "shop", "merchant_order_no": "o-1", "amount": 500,
            "currency": "CNY", "subject": "tea", "notify_url": "http://127.0.0.1:9/notify"}),
        )
        .await;
    let trade = trade["trade_id"].as_str().unwrap().to_owned();
    let paid = api
        .post(
            &format!("/v1/trades/{trade}/payments"),
            json!({"id": "pay-1", "method": "quickpay"}),
        )
        .await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    upload_ghost_statement(api).await;
    let order_no = paid["channel_order_no"].as_str().unwrap().to_owned();
    (keys[0].clone(), keys[1].clone(), order_no)
}

async fn upload_ghost_statement(api: &Api) {
    let day = api.get("/healthz").await["accounting_date"]
        .as_str()
        .unwrap()
        .to_owned();
    let csv = "time,channel_order_no,bank_ref,kind,status,amount,fee,currency,refund_no\n\
               2026-12-01 10:00:00,ghost-1,Bghost,payment,SUCCESS,5.00,0.00,CNY,\n";
    let response = api
        .http
        .post(format!(
            "{}/v1/recon/statements?channel=ok&date={day}&format=csv",
            api.url
        ))
        .bearer_auth(KEY)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

/// Saves a screenshot of the page as `name`.png.
async fn shot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

async fn wait_for(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

/// Clicks `css` once it appears. The console re-renders parts of the page (the navigation
/// after a sign-in or a refresh), so an element found a moment ago may be replaced before the
/// click lands: then it is found again.
async fn click(browser: &Client, css: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        match wait_for(browser, css).await.click().await {
            Ok(()) => return,
            Err(e) if e.is_stale_element_reference() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("clicking {css}: {e}"),
        }
    }
}

/// Waits until `css` matches `count` elements.
async fn wait_count(browser: &Client, css: &str, count: usize) {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = browser.find_all(Locator::Css(css)).await.unwrap().len();
        if found == count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css}: {found} elements, want {count}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs in from a signed-out browser.
async fn sign_in(browser: &Client, url: &str, key: &str) {
    browser.goto(&format!("{url}/console")).await.unwrap();
    wait_for(browser, "#f-key")
        .await
        .send_keys(key)
        .await
        .unwrap();
    click(browser, "#signin-submit").await;
    wait_for(browser, "#nav-overview").await;
}

async fn fill(browser: &Client, css: &str, text: &str) {
    let input = wait_for(browser, css).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

async fn text_of(browser: &Client, css: &str) -> String {
    wait_for(browser, css).await.text().await.unwrap()
}

async fn poll(api: &Api, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = api.get(path).await;
        if done(&value) || Instant::now() > deadline {
            assert!(done(&value), "{path}: {value}");
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_does_the_days_work_in_a_real_browser() {
    let sim = start(
        &["channel-sim", "--listen", "127.0.0.1:0", "--seed", "3"],
        "channel-sim listening on ",
        KEY,
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
            "--notify-allow-cidr",
            "127.0.0.1/32",
            "--notify-schedule",
            "200ms",
            "--notify-timeout-ms",
            "300",
        ],
        "paycore listening on ",
        KEY,
    );
    let url = server.url.clone();
    let api = Api {
        http: reqwest::Client::new(),
        url: url.clone(),
    };
    let (li, wang, order_no) = set_up(&api, &sim.url).await;
    let driver = chromedriver();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let browser = browser(&driver.url, &dir.path().join("profile"), &downloads).await;

    sign_in(&browser, &url, &li).await;
    assert_eq!(text_of(&browser, "#who").await, "li (operator)");
    wait_for(&browser, "#card-health .status-ok").await;
    shot(&browser, "01-overview").await;

    statement_pages_and_csv(&browser, &downloads).await;
    holds_and_hot_settings(&browser, &url).await;
    adjustment_needs_another_person(&browser, &api, &url, &li, &wang).await;
    trade_found_by_channel_order(&browser, &order_no).await;
    dead_notification_retried(&browser, &api).await;
    exception_resolved(&browser, &api).await;
    trial_balance(&browser, &api).await;
    language_switch(&browser).await;
    browser.close().await.unwrap();
}

async fn statement_pages_and_csv(browser: &Client, downloads: &Path) {
    click(browser, "#nav-accounts").await;
    fill(browser, "#f-prefix", "CONSOLE-").await;
    click(browser, "#account-search button").await;
    wait_count(browser, "#account-list tbody tr", 2).await;
    shot(browser, "02-account-search").await;
    browser
        .find(Locator::LinkText("CONSOLE-A"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_count(browser, "#statement tbody tr", 50).await;
    let balance = text_of(browser, "#card-balance").await;
    let total: u64 = (0..ENTRIES as u64).map(|i| 10_000 + i).sum();
    assert!(
        balance.contains(&format!("{},", total / 100 / 1000)),
        "{balance}"
    );
    assert!(balance.contains('元'), "CNY in capital numerals: {balance}");
    let first_page = text_of(browser, "#statement tbody tr:first-child td:first-child").await;
    let time = text_of(browser, "#statement tbody tr:first-child td:nth-child(3)").await;
    assert!(
        time.ends_with("+08:00"),
        "times in the accounting day's offset: {time}"
    );
    click(browser, "#next-page").await;
    let deadline = Instant::now() + WAIT;
    while text_of(browser, "#statement tbody tr:first-child td:first-child").await == first_page {
        assert!(Instant::now() < deadline, "the next page never came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shot(browser, "03-statement-page-2").await;
    click(browser, "#download-csv").await;
    let file = downloads.join("statement-CONSOLE-A.csv");
    let deadline = Instant::now() + WAIT;
    while !file.exists() {
        assert!(
            Instant::now() < deadline,
            "no CSV downloaded to {}",
            downloads.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let csv = std::fs::read_to_string(&file).unwrap();
    assert_eq!(csv.lines().count(), ENTRIES + 1, "a header and every entry");
    assert!(csv.lines().nth(1).unwrap().contains(",10000,"), "{csv}");
}

async fn adjustment_needs_another_person(
    browser: &Client,
    api: &Api,
    url: &str,
    li: &str,
    wang: &str,
) {
    click(browser, "#nav-adjustments").await;
    fill(browser, "#f-id", "adj-console-1").await;
    fill(browser, "#f-debit_account", "CONSOLE-A").await;
    fill(browser, "#f-credit_account", "CONSOLE-B").await;
    fill(browser, "#f-amount", "1234.56").await;
    assert_eq!(
        text_of(browser, "#amount-words").await,
        "壹仟贰佰叁拾肆元伍角陆分"
    );
    fill(browser, "#f-reason", "posted to the wrong account").await;
    shot(browser, "04-adjustment-typed").await;
    click(browser, "#adjustment-submit").await;
    wait_for(browser, "#adjustment-queue .own").await;
    wait_count(browser, "#adjustment-queue button.approve", 0).await;
    shot(browser, "05-own-adjustment-no-approve").await;
    // The server refuses it too, whatever the page offers.
    let refused = api
        .http
        .post(format!("{url}/v1/adjustments/adj-console-1/approve"))
        .bearer_auth(li)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    click(browser, "#signout").await;
    wait_for(browser, "#f-key").await;
    sign_in(browser, url, wang).await;
    click(browser, "#nav-adjustments").await;
    click(browser, "#adjustment-queue button.approve").await;
    let posted = poll(api, "/v1/adjustments/adj-console-1", |a| {
        a["status"] == "posted"
    })
    .await;
    assert_eq!(posted["amount_in_words"], "壹仟贰佰叁拾肆元伍角陆分");
    wait_for(browser, "#adjustment-done").await;
    shot(browser, "06-adjustment-approved").await;
}

async fn trade_found_by_channel_order(browser: &Client, order_no: &str) {
    click(browser, "#nav-trades").await;
    fill(browser, "#f-channel_order_no", order_no).await;
    click(browser, "#trade-search button").await;
    click(browser, "#trade-search + div a").await;
    let payment = text_of(browser, "#payment-pay-1 h2").await;
    assert!(
        payment.contains("succeeded") && payment.contains("5.00 CNY"),
        "{payment}"
    );
    let route = text_of(browser, "#payment-pay-1 .route").await;
    assert!(
        route.contains("chose ok") && route.contains("ok (weight 100): passed every filter"),
        "{route}"
    );
    wait_for(browser, "#payment-pay-1 form").await; // refund offered for a succeeded payment
    shot(browser, "07-trade-by-channel-order").await;
}

async fn dead_notification_retried(browser: &Client, api: &Api) {
    poll(api, "/v1/notifications?status=dead", |n| {
        n["notifications"].as_array().is_some_and(|l| !l.is_empty())
    })
    .await;
    click(browser, "#nav-notifications").await;
    let retry = wait_for(browser, "#notification-list button.retry").await;
    shot(browser, "08-dead-notification").await;
    let event = retry.attr("data-event").await.unwrap().unwrap();
    let before = api.get(&format!("/v1/notifications/{event}")).await["attempt_count"]
        .as_u64()
        .unwrap();
    retry.click().await.unwrap();
    poll(api, &format!("/v1/notifications/{event}"), |n| {
        n["attempt_count"].as_u64().unwrap() > before
    })
    .await;
    wait_for(browser, "#banner.ok").await;
}

async fn exception_resolved(browser: &Client, api: &Api) {
    click(browser, "#nav-recon").await;
    let form = wait_for(browser, "#exception-list form.resolve").await;
    let id = form.attr("data-exception").await.unwrap().unwrap();
    form.find(Locator::Css("input[name=reason]"))
        .await
        .unwrap()
        .send_keys("a test line of the bank's")
        .await
        .unwrap();
    shot(browser, "09-exception-open").await;
    form.find(Locator::Css("button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let path = format!("/v1/recon/exceptions/{}", urlencode(&id));
    let closed = poll(api, &path, |e| e["status"] == "closed").await;
    assert_eq!(
        closed["history"].as_array().unwrap().last().unwrap()["by"],
        "wang"
    );
}

async fn trial_balance(browser: &Client, api: &Api) {
    // Accounting follows the ledger's log on its own: wait until it has vouchers to show.
    poll(api, "/v1/accounting/trial-balance", |t| {
        t["rows"].as_array().is_some_and(|rows| !rows.is_empty())
    })
    .await;
    click(browser, "#nav-accounting").await;
    wait_for(browser, "#accounting-report table").await;
    let first_row = text_of(browser, "#accounting-report tbody tr").await;
    assert!(
        first_row.contains(" CNY"),
        "amounts formatted with their currency: {first_row}"
    );
    shot(browser, "10-trial-balance").await;
}

async fn holds_and_hot_settings(browser: &Client, url: &str) {
    browser
        .goto(&format!("{url}/console#/account/CONSOLE-B"))
        .await
        .unwrap();
    wait_count(browser, "#holds tbody tr", 1).await;
    let hold = text_of(browser, "#holds tbody tr").await;
    assert!(
        hold.contains("hold-kept") && hold.contains("12.00"),
        "{hold}"
    );
    let hot = text_of(browser, "#hot-words").await;
    assert!(hot.contains("buffered") && hot.contains("500 ms"), "{hot}");
    shot(browser, "03b-holds-and-hot-settings").await;
}

async fn language_switch(browser: &Client) {
    click(browser, "#lang").await;
    assert_eq!(text_of(browser, "#nav-accounts").await, "账户");
    shot(browser, "11-chinese").await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
