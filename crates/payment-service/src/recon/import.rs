//! Importing a statement: checked whole first (a malformed file is refused with its line and
//! reason, nothing imported), then stored in chunks under an id derived from its channel, day
//! and content, so importing the same file twice is the same statement.

use paycore_payment_store::repo::recon::{self, LineRecord, StatementRecord};
use paycore_recon::{Day, RecordKind};
use paycore_statements::{Format, LineKind, StatementLine, StatementReader};
use sha2::{Digest, Sha256};

use crate::clock::now_ms;
use crate::error::{Result, ServiceError};
use crate::PaymentService;

/// Lines stored per writer job.
const CHUNK: usize = 5_000;

/// A statement and whether this call imported it.
#[derive(Clone, Debug)]
pub struct Imported {
    pub statement: StatementRecord,
    pub created: bool,
}

fn reader(format: Format, bytes: &[u8]) -> Result<StatementReader<'_>> {
    StatementReader::open(format, std::io::Cursor::new(bytes)).map_err(ServiceError::Statement)
}

fn record(seq: u64, line: StatementLine) -> LineRecord {
    let kind = match line.kind {
        LineKind::Payment => RecordKind::Payment,
        LineKind::Refund => RecordKind::Refund,
    };
    let key = match (kind, line.refund_no) {
        // A refund is matched by its own number at the channel.
        (RecordKind::Refund, Some(no)) => no,
        (_, _) => line.channel_order_no,
    };
    LineRecord {
        seq,
        line_no: line.line_no,
        key,
        kind,
        amount: line.amount_minor,
        fee: line.fee_minor,
        status: line.status,
        bank_ref: line.bank_ref,
    }
}

impl PaymentService {
    /// Imports `bytes` as `channel`'s statement of `day` in `format`.
    pub async fn import_statement(
        &self,
        channel: &str,
        day: &str,
        format: &str,
        bytes: Vec<u8>,
        source: &str,
    ) -> Result<Imported> {
        let day = Day::parse(day)?.iso();
        let format = Format::from_name(format)
            .ok_or_else(|| paycore_recon::ReconError::invalid("format", "wechat, alipay or csv"))?;
        self.adapter(channel)?; // the channel exists
        let sha256 = hex(&Sha256::digest(&bytes));
        let channel = channel.to_owned();
        let (by, day_key, hash) = (channel.clone(), day.clone(), sha256.clone());
        let known = self
            .inner
            .readers
            .read(move |sql| recon::statement_by_hash(sql, &by, &day_key, &hash))
            .await?;
        if let Some(statement) = known {
            return Ok(Imported {
                statement,
                created: false,
            });
        }
        let bytes = std::sync::Arc::new(bytes);
        let checked = bytes.clone();
        let lines = tokio::task::spawn_blocking(move || -> Result<u64> {
            let mut count = 0;
            for line in reader(format, &checked)? {
                line.map_err(ServiceError::Statement)?;
                count += 1;
            }
            Ok(count)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("statement check: {e}")))??;
        let statement = StatementRecord {
            id: format!("st-{channel}-{day}-{}", &sha256[..16]),
            channel,
            day,
            format: format.name().to_owned(),
            sha256,
            lines,
            source: source.to_owned(),
            imported_at: now_ms(),
        };
        self.store_lines(&statement, format, bytes).await?;
        Ok(Imported {
            statement,
            created: true,
        })
    }

    /// Stores every line in chunks, then the statement row (last: a statement whose row exists
    /// has all its lines; a crash before leaves lines a retry writes again, the same).
    async fn store_lines(
        &self,
        statement: &StatementRecord,
        format: Format,
        bytes: std::sync::Arc<Vec<u8>>,
    ) -> Result<()> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<LineRecord>>(2);
        let producer = tokio::task::spawn_blocking(move || -> Result<()> {
            let mut chunk = Vec::with_capacity(CHUNK);
            for (seq, line) in reader(format, &bytes)?.enumerate() {
                chunk.push(record(
                    seq as u64 + 1,
                    line.map_err(ServiceError::Statement)?,
                ));
                if chunk.len() == CHUNK && tx.blocking_send(std::mem::take(&mut chunk)).is_err() {
                    return Ok(());
                }
            }
            let _ = tx.blocking_send(chunk);
            Ok(())
        });
        while let Some(chunk) = rx.recv().await {
            let id = statement.id.clone();
            self.inner
                .writer
                .run(move |_, sql| recon::insert_lines(sql, &id, &chunk))
                .await?;
        }
        producer
            .await
            .map_err(|e| ServiceError::Internal(format!("statement import: {e}")))??;
        let row = statement.clone();
        self.inner
            .writer
            .run(move |_, sql| recon::insert_statement(sql, &row))
            .await?;
        tracing::info!(statement = %statement.id, lines = statement.lines, "statement imported");
        Ok(())
    }

    /// Fetches the day's statement through the channel's adapter and imports it.
    pub async fn fetch_statement(&self, channel: &str, day: &str) -> Result<Imported> {
        let date = Day::parse(day)?;
        let format = "csv";
        let bytes = self
            .adapter(channel)?
            .statement(time_date(date)?, format)
            .await
            .map_err(|e| ServiceError::Internal(format!("fetching the statement: {e:?}")))?;
        self.import_statement(channel, &date.iso(), format, bytes, "fetch")
            .await
    }
}

pub(crate) fn time_date(day: Day) -> Result<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(&day.iso(), &format)
        .map_err(|e| ServiceError::Internal(format!("date {}: {e}", day.iso())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
