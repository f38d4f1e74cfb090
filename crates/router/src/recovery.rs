//! Finishes cross-shard transfers whose router died or ran out of time: every `period` the
//! intents in etcd are listed, and each one still in flight that was already there at the
//! previous scan and that no request here is driving is driven to its end. Several routers
//! may do this at once: each step's outcome is decided once by its shard, so they agree.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use paycore_crossshard::Intent;

use crate::coordinator::Coordinator;

/// How long one recovery attempt drives an intent before leaving it to the next scan.
const DRIVE_FOR: Duration = Duration::from_secs(30);

pub fn spawn_recovery(coordinator: Arc<Coordinator>, period: Duration) {
    tokio::spawn(async move {
        let mut seen_before = HashSet::new();
        loop {
            tokio::time::sleep(period).await;
            seen_before = scan(&coordinator, &seen_before).await;
        }
    });
}

/// One scan; returns the ids it saw in flight.
async fn scan(coordinator: &Arc<Coordinator>, seen_before: &HashSet<String>) -> HashSet<String> {
    let stored = match coordinator.intents().all().await {
        Ok(stored) => stored,
        Err(error) => {
            tracing::warn!(%error, "listing cross-shard intents");
            return seen_before.clone();
        }
    };
    let mut in_flight = HashSet::new();
    for text in stored {
        let intent: Intent = match serde_json::from_str(&text) {
            Ok(intent) => intent,
            Err(error) => {
                tracing::error!(%error, %text, "unreadable cross-shard intent left alone");
                continue;
            }
        };
        if intent.is_final() {
            continue;
        }
        in_flight.insert(intent.id.clone());
        let busy = coordinator.driving.lock().unwrap().contains(&intent.id);
        if seen_before.contains(&intent.id) && !busy {
            let coordinator = coordinator.clone();
            tokio::spawn(async move {
                let id = intent.id.clone();
                let driven = coordinator.drive(intent, Instant::now() + DRIVE_FOR).await;
                tracing::info!(%id, phase = driven.intent.phase_name(), "recovered cross-shard transfer");
            });
        }
    }
    in_flight
}
