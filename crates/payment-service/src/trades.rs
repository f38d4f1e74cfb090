//! Trades: created once per merchant order number (a retry with the same content returns
//! the same trade, different content is `id_conflict`), read with their payments.

use paycore_payment_store::repo::{payments, trades};
use paycore_payments::{NewTrade, PayError, Payment, Trade};

use crate::clock::now_ms;
use crate::error::Result;
use crate::PaymentService;

/// A trade with its payments, in creation order.
#[derive(Clone, Debug)]
pub struct TradeView {
    pub trade: Trade,
    pub payments: Vec<Payment>,
}

impl PaymentService {
    pub async fn create_trade(&self, request: NewTrade) -> Result<(Trade, bool)> {
        let now = now_ms();
        let created = self
            .inner
            .writer
            .run(move |state, sql| {
                if let Some(existing) =
                    trades::by_merchant_order(sql, &request.merchant, &request.merchant_order_no)?
                {
                    return Ok(if existing.same_request(&request) {
                        Ok((existing, false))
                    } else {
                        Err(PayError::IdConflict(request.merchant_order_no))
                    });
                }
                let Some(merchant) = state.merchant(sql, &request.merchant)? else {
                    return Ok(Err(PayError::MerchantNotFound(request.merchant)));
                };
                if let Err(e) = request.check(&merchant) {
                    return Ok(Err(e));
                }
                let trade_id = state.next_trade_id(now);
                let trade = match request.into_trade(&merchant, trade_id, now) {
                    Ok(trade) => trade,
                    Err(e) => return Ok(Err(e)),
                };
                trades::insert(sql, &trade)?;
                Ok(Ok((trade, true)))
            })
            .await??;
        Ok(created)
    }

    /// `POST /v1/trades/{trade_id}/close`: an unpaid trade takes no more payments; refused
    /// (`payment_pending`) while one of its payments is in flight at its bank.
    pub async fn close_trade(&self, trade_id: &str) -> Result<TradeView> {
        let id = trade_id.to_owned();
        let now = now_ms();
        let view = self
            .inner
            .writer
            .run(move |_, sql| {
                let Some(mut trade) = trades::get(sql, &id)? else {
                    return Ok(Err(PayError::TradeNotFound(id)));
                };
                let payments = payments::of_trade(sql, &trade.trade_id)?;
                let in_flight = payments.iter().any(|p| p.status.in_flight());
                let before = trade.clone();
                trade.expire_if_due(now);
                if let Err(e) = trade.close(in_flight) {
                    return Ok(Err(e));
                }
                if trade != before {
                    trades::update(sql, &trade)?;
                }
                Ok(Ok(TradeView { trade, payments }))
            })
            .await??;
        Ok(view)
    }

    pub async fn trade(&self, trade_id: &str) -> Result<TradeView> {
        let id = trade_id.to_owned();
        let view = self
            .inner
            .readers
            .read(move |sql| {
                let Some(trade) = trades::get(sql, &id)? else {
                    return Ok(Err(PayError::TradeNotFound(id)));
                };
                let payments = payments::of_trade(sql, &trade.trade_id)?;
                Ok(Ok(TradeView { trade, payments }))
            })
            .await??;
        Ok(view)
    }

    pub async fn find_trade(&self, merchant: &str, merchant_order_no: &str) -> Result<TradeView> {
        let (merchant, order_no) = (merchant.to_owned(), merchant_order_no.to_owned());
        let found = self
            .inner
            .readers
            .read(move |sql| trades::by_merchant_order(sql, &merchant, &order_no))
            .await?;
        match found {
            Some(trade) => self.trade(&trade.trade_id).await,
            None => Err(PayError::TradeNotFound(merchant_order_no.to_owned()).into()),
        }
    }

    /// The trade one of whose payments sent channel order `order_no` (what a bank or a
    /// statement names).
    pub async fn trade_of_channel_order(&self, order_no: &str) -> Result<TradeView> {
        let no = order_no.to_owned();
        let found = self
            .inner
            .readers
            .read(move |sql| payments::trade_of_order(sql, &no))
            .await?;
        match found {
            Some(trade_id) => self.trade(&trade_id).await,
            None => Err(PayError::TradeNotFound(order_no.to_owned()).into()),
        }
    }

    /// A merchant's trades in id order.
    pub async fn trades(&self, merchant: &str, after: &str, limit: u64) -> Result<Vec<Trade>> {
        let (merchant, after) = (merchant.to_owned(), after.to_owned());
        Ok(self
            .inner
            .readers
            .read(move |sql| trades::list(sql, &merchant, &after, limit))
            .await?)
    }
}
