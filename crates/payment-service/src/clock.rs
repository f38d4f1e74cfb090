//! Wall-clock time for the payment side (the domain takes it as an argument), and the dates
//! channel order numbers carry.

use paycore_payments::Millis;

pub fn now_ms() -> Millis {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    since_epoch.as_millis() as Millis
}

/// `YYYYMMDD` of a time (UTC).
pub fn date_digits(at: Millis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp((at / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_eight_digits() {
        assert_eq!(super::date_digits(1_764_547_200_000), "20251201");
        assert_eq!(super::date_digits(0), "19700101");
    }
}

tokio::task_local! {
    /// Time the current request spent waiting for channels, in nanoseconds.
    static CHANNEL_WAIT_NS: std::cell::Cell<u64>;
}

/// Runs `work` and returns, with its output, how long it waited for channel calls — so the
/// server can report paycore's own time per request (`Paycore-Own-Time-Ms`).
pub async fn with_channel_clock<F: std::future::Future>(
    work: F,
) -> (F::Output, std::time::Duration) {
    CHANNEL_WAIT_NS
        .scope(std::cell::Cell::new(0), async {
            let output = work.await;
            let waited = CHANNEL_WAIT_NS.with(|w| w.get());
            (output, std::time::Duration::from_nanos(waited))
        })
        .await
}

/// Times a channel call, adding it to the current request's channel wait (if measured).
pub(crate) async fn channel_call<F: std::future::Future>(call: F) -> F::Output {
    let started = std::time::Instant::now();
    let output = call.await;
    let waited = started.elapsed().as_nanos() as u64;
    let _ = CHANNEL_WAIT_NS.try_with(|w| w.set(w.get().saturating_add(waited)));
    output
}
