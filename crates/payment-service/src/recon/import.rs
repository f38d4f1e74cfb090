//! Importing a statement: spooled to an anonymous file (a statement may be larger than
//! memory; the server streams an upload straight into one), hashed, checked whole (a
//! malformed file is refused with its line and reason, nothing imported), then stored in
//! chunks under an id derived from its channel, day and content, so importing the same file
//! twice is the same statement. Each pass reads the file again; none holds it in memory.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

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

fn io_error(e: std::io::Error) -> ServiceError {
    ServiceError::Internal(format!("statement spool: {e}"))
}

/// A reader from the file's start (its own handle, so passes never share a position).
fn reader(format: Format, file: &File) -> Result<StatementReader<'static>> {
    let mut own = file.try_clone().map_err(io_error)?;
    own.seek(SeekFrom::Start(0)).map_err(io_error)?;
    StatementReader::open(format, BufReader::with_capacity(1 << 16, own))
        .map_err(ServiceError::Statement)
}

fn sha256_of(file: &File) -> Result<String> {
    let mut own = file.try_clone().map_err(io_error)?;
    own.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        match own.read(&mut buffer).map_err(io_error)? {
            0 => return Ok(hex::encode(hasher.finalize())),
            n => hasher.update(&buffer[..n]),
        }
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ServiceError::Internal(format!("statement import: {e}")))?
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
    /// An anonymous file (gone when closed) for a statement on its way in.
    pub fn statement_spool(&self) -> std::io::Result<File> {
        match &self.inner.config.spool_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                tempfile::tempfile_in(dir)
            }
            None => tempfile::tempfile(),
        }
    }

    /// Imports `bytes` as `channel`'s statement of `day` in `format` (through the spool).
    pub async fn import_statement(
        &self,
        channel: &str,
        day: &str,
        format: &str,
        bytes: Vec<u8>,
        source: &str,
    ) -> Result<Imported> {
        let mut file = self.statement_spool().map_err(io_error)?;
        file.write_all(&bytes).map_err(io_error)?;
        drop(bytes);
        self.import_statement_file(channel, day, format, file, source)
            .await
    }

    /// Imports the statement in `file` (read from its start, however large).
    pub async fn import_statement_file(
        &self,
        channel: &str,
        day: &str,
        format: &str,
        file: File,
        source: &str,
    ) -> Result<Imported> {
        let day = Day::parse(day)?.iso();
        let format = Format::from_name(format)
            .ok_or_else(|| paycore_recon::ReconError::invalid("format", "wechat, alipay or csv"))?;
        self.adapter(channel)?; // the channel exists
        let started = std::time::Instant::now();
        let file = std::sync::Arc::new(file);
        let hashed = file.clone();
        let sha256 = blocking(move || sha256_of(&hashed)).await?;
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
        let checked = file.clone();
        let lines = blocking(move || {
            let mut count = 0;
            for line in reader(format, &checked)? {
                line.map_err(ServiceError::Statement)?;
                count += 1;
            }
            Ok(count)
        })
        .await?;
        let checked_ms = started.elapsed().as_millis();
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
        self.store_lines(&statement, format, file).await?;
        let total_ms = started.elapsed().as_millis();
        tracing::info!(statement = %statement.id, lines = statement.lines, checked_ms, total_ms, "statement imported");
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
        file: std::sync::Arc<File>,
    ) -> Result<()> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<LineRecord>>(2);
        let producer = tokio::task::spawn_blocking(move || -> Result<()> {
            let mut chunk = Vec::with_capacity(CHUNK);
            for (seq, line) in reader(format, &file)?.enumerate() {
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
        Ok(())
    }

    /// Fetches the day's statement in `format` through the channel's adapter and imports it.
    pub async fn fetch_statement(
        &self,
        channel: &str,
        day: &str,
        format: &str,
    ) -> Result<Imported> {
        let date = Day::parse(day)?;
        Format::from_name(format)
            .ok_or_else(|| paycore_recon::ReconError::invalid("format", "wechat, alipay or csv"))?;
        let bytes = self
            .adapter(channel)?
            .statement(time_date(date)?, format)
            .await
            .map_err(|e| ServiceError::ChannelUnavailable {
                channel: channel.to_owned(),
                reason: format!("fetching the statement: {e:?}"),
            })?;
        self.import_statement(channel, &date.iso(), format, bytes, "fetch")
            .await
    }
}

pub(crate) fn time_date(day: Day) -> Result<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(&day.iso(), &format)
        .map_err(|e| ServiceError::Internal(format!("date {}: {e}", day.iso())))
}
