//! `paycore notify`: merchant notifications (异步通知) for operators — list (by status,
//! merchant, order), show (with every attempt), retry (due now, also a dead one).

use std::process::ExitCode;

use clap::Subcommand;
use paycore_api::notifications::{NotificationList, NotificationResponse};
use serde_json::json;

use crate::cli::path_segment;
use crate::client::{finish, Client};

#[derive(Subcommand, Debug)]
pub enum NotifyAction {
    /// Notifications in creation order.
    List {
        /// pending, delivered or dead.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        merchant: Option<String>,
        /// One order's (a trade id or a payout id).
        #[arg(long)]
        order: Option<String>,
        /// After this event id (the last of the previous page).
        #[arg(long)]
        after: Option<String>,
        #[arg(long)]
        limit: Option<u64>,
    },
    /// A notification with its attempts and body.
    Show { event_id: String },
    /// Send it again now (a dead one gets one more attempt).
    Retry { event_id: String },
}

pub fn notify(client: &Client, action: NotifyAction) -> anyhow::Result<ExitCode> {
    match action {
        NotifyAction::List {
            status,
            merchant,
            order,
            after,
            limit,
        } => {
            let limit = limit.map(|l| l.to_string());
            let filters = [
                ("status", status),
                ("merchant", merchant),
                ("order", order),
                ("after", after),
                ("limit", limit),
            ];
            let query: Vec<String> = filters
                .into_iter()
                .filter_map(|(name, value)| value.map(|v| format!("{name}={}", path_segment(&v))))
                .collect();
            let path = match query.is_empty() {
                true => "/v1/notifications".to_owned(),
                false => format!("/v1/notifications?{}", query.join("&")),
            };
            finish(client, client.get(&path), print_list)
        }
        NotifyAction::Show { event_id } => finish(
            client,
            client.get(&format!("/v1/notifications/{}", path_segment(&event_id))),
            print_one,
        ),
        NotifyAction::Retry { event_id } => finish(
            client,
            client.post(
                &format!("/v1/notifications/{}/retry", path_segment(&event_id)),
                json!({}),
            ),
            print_one,
        ),
    }
}

fn print_one(n: NotificationResponse) {
    println!("event      {} {} {}", n.event_id, n.event_type, n.status);
    println!(
        "merchant   {}  order {} #{}",
        n.merchant, n.order, n.order_seq
    );
    println!("url        {}", n.url);
    println!("created    {}", n.created_at);
    if let Some(at) = &n.next_attempt_at {
        println!("next       {at}");
    }
    if let Some(at) = &n.delivered_at {
        println!("delivered  {at}");
    }
    println!("attempts   {}", n.attempt_count);
    for a in &n.attempts {
        let code = a.status_code.map_or("-".to_owned(), |c| c.to_string());
        let reason = a.reason.as_deref().unwrap_or("acknowledged");
        println!("  {} {:>3} {:<16} {} ms", a.at, code, reason, a.latency_ms);
    }
    println!("body       {}", n.body);
}

fn print_list(list: NotificationList) {
    println!(
        "{:<48} {:<17} {:<9} {:>8} {:<12} CREATED",
        "EVENT", "TYPE", "STATUS", "ATTEMPTS", "MERCHANT"
    );
    for n in &list.notifications {
        println!(
            "{:<48} {:<17} {:<9} {:>8} {:<12} {}",
            n.event_id, n.event_type, n.status, n.attempt_count, n.merchant, n.created_at
        );
    }
    if let Some(last) = list.notifications.last() {
        if list.notifications.len() >= 100 {
            println!("more: --after {}", last.event_id);
        }
    }
}
