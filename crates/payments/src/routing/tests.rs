//! The router against tables of channels: each filter's reason, the exact split over many
//! cycles of several weight sets, and the split's state across a restart.

use std::collections::HashMap;

use paycore_money::Currency;

use super::*;
use crate::channel::NewChannel;

fn channel(id: &str, weight: u32) -> Channel {
    NewChannel {
        id: id.into(),
        protocol: "sim-json".into(),
        endpoint: "http://127.0.0.1:1".into(),
        secret: "k".into(),
        methods: vec![Method::Quickpay, Method::Netbank],
        currencies: vec![Currency::CNY],
        min_amount: None,
        max_amount: None,
        weight,
        rate_limit_per_s: None,
        enabled: true,
    }
    .into_channel(0)
    .unwrap()
}

fn quickpay(amount: u64) -> RouteRequest<'static> {
    RouteRequest {
        method: Method::Quickpay,
        currency: Currency::CNY,
        amount,
        channel: None,
        exclude: &[],
    }
}

fn tally(router: &mut Router, channels: &[Channel], n: usize, now: Millis) -> HashMap<String, u32> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let d = router.route(channels, &quickpay(100), now);
        *counts.entry(d.chosen.unwrap()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn the_split_is_exact_over_many_cycles_of_several_weight_sets() {
    for weights in [
        vec![100, 100, 50],
        vec![1, 1, 1],
        vec![70, 20, 10],
        vec![3, 0, 9],
    ] {
        let channels: Vec<Channel> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| channel(&format!("ch{i}"), *w))
            .collect();
        let total: u32 = weights.iter().sum();
        let mut router = Router::new(HealthPolicy::default());
        for cycle in 0..20 {
            let counts = tally(&mut router, &channels, total as usize, 0);
            for (i, w) in weights.iter().enumerate() {
                let got = counts.get(&format!("ch{i}")).copied().unwrap_or(0);
                assert_eq!(got, *w, "weights {weights:?}, cycle {cycle}");
            }
        }
    }
}

#[test]
fn the_split_continues_exactly_after_a_restart() {
    let channels = [channel("a", 100), channel("b", 100), channel("c", 50)];
    let mut router = Router::new(HealthPolicy::default());
    let before = tally(&mut router, &channels, 99, 0);
    let stored = router.take_dirty_splits();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "a:100,b:100,c:50");
    let mut restarted = Router::new(HealthPolicy::default());
    restarted.restore_split(&stored[0].0, &stored[0].1);
    let after = tally(&mut restarted, &channels, 151, 0);
    for (c, w) in [("a", 100), ("b", 100), ("c", 50)] {
        assert_eq!(before.get(c).unwrap_or(&0) + after.get(c).unwrap_or(&0), w);
    }
}

#[test]
fn each_filter_records_why_it_dropped_a_channel() {
    let mut disabled = channel("a-disabled", 1);
    disabled.enabled = false;
    let mut netbank_only = channel("b-netbank", 1);
    netbank_only.methods = vec![Method::Netbank];
    let mut usd = channel("c-usd", 1);
    usd.currencies = vec![Currency::USD];
    let mut small = channel("d-small", 1);
    small.max_amount = Some(99);
    let mut big = channel("e-big", 1);
    big.min_amount = Some(101);
    let mut limited = channel("f-limited", 1);
    limited.rate_limit_per_s = Some(1);
    let mut drained = channel("g-drained", 0);
    drained.weight = 0;
    let channels = [disabled, netbank_only, usd, small, big, limited, drained];
    let mut router = Router::new(HealthPolicy::default());
    let first = router.route(&channels, &quickpay(100), 0);
    assert_eq!(first.chosen.as_deref(), Some("f-limited"));
    let second = router.route(&channels, &quickpay(100), 0);
    assert_eq!(second.chosen, None, "the only channel left is rate limited");
    let reasons: Vec<&str> = second
        .candidates
        .iter()
        .map(|c| c.dropped.as_ref().unwrap().code())
        .collect();
    assert_eq!(
        reasons,
        [
            "disabled",
            "method_not_supported",
            "currency_not_supported",
            "above_max_amount",
            "below_min_amount",
            "rate_limited",
            "zero_weight"
        ]
    );
    assert!(second
        .reasons()
        .contains("f-limited: rate limit of 1/s exhausted"));
    let later = router.route(&channels, &quickpay(100), 1_000);
    assert_eq!(
        later.chosen.as_deref(),
        Some("f-limited"),
        "refilled after a second"
    );
}

#[test]
fn a_named_channel_skips_the_split_but_not_the_filters() {
    let mut b = channel("b", 0);
    b.max_amount = Some(10);
    let channels = [channel("a", 100), b];
    let mut router = Router::new(HealthPolicy::default());
    let mut request = quickpay(5);
    request.channel = Some("b");
    let d = router.route(&channels, &request, 0);
    assert_eq!(
        (d.chosen.as_deref(), d.strategy),
        (Some("b"), Strategy::Explicit)
    );
    assert_eq!(d.candidates[0].dropped, Some(DropReason::NotRequested));
    request.amount = 11;
    let refused = router.route(&channels, &request, 0);
    assert_eq!(refused.chosen, None);
    assert_eq!(
        refused.candidates[1].dropped,
        Some(DropReason::AboveMaxAmount { max: 10 })
    );
    assert!(
        router.take_dirty_splits().is_empty(),
        "explicit routing leaves the split alone"
    );
}

#[test]
fn unhealthy_channels_rest_and_reroutes_skip_tried_ones() {
    let channels = [channel("a", 1), channel("b", 1)];
    let policy = HealthPolicy {
        failures_max: 2,
        rest_ms: 500,
    };
    let mut router = Router::new(policy);
    router.record("a", CallOutcome::NoAnswer, 0);
    router.record("a", CallOutcome::Failed, 0);
    for _ in 0..4 {
        let d = router.route(&channels, &quickpay(1), 100);
        assert_eq!(d.chosen.as_deref(), Some("b"));
        assert_eq!(
            d.candidates[0].dropped,
            Some(DropReason::Resting { until: 500 })
        );
    }
    let tried = vec!["b".to_string()];
    let mut reroute = quickpay(1);
    reroute.exclude = &tried;
    let d = router.route(&channels, &reroute, 600);
    assert_eq!(
        d.chosen.as_deref(),
        Some("a"),
        "rested long enough, and b was tried"
    );
    assert_eq!(d.candidates[1].dropped, Some(DropReason::AlreadyTried));
}
