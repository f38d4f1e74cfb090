//! Callbacks banks send to `POST /v1/channels/{id}/notify`: verified by the channel's
//! adapter (a bad signature is refused and logged, never applied), then applied like any
//! other report — late or repeated ones change nothing a second time.

use paycore_channels::{Ack, OrderKind};
use paycore_payment_store::repo::{payments, refunds};

use crate::error::{Result, ServiceError};
use crate::outcome::{bank_result, Source};
use crate::PaymentService;

impl PaymentService {
    /// Handles a callback from `channel`; the answer tells the bank whether to send it again.
    pub async fn channel_callback(
        &self,
        channel: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Ack> {
        let adapter = self.adapter(channel)?;
        let callback = adapter.parse_callback(headers, body).map_err(|e| {
            tracing::warn!(%channel, error = ?e, "channel callback refused");
            ServiceError::BadCallback(format!("{e:?}"))
        })?;
        match callback.kind {
            OrderKind::Pay => {}
            OrderKind::Refund => {
                return self
                    .refund_callback(channel, adapter.as_ref(), callback)
                    .await
            }
            OrderKind::Payout => {
                tracing::warn!(%channel, order = %callback.order_no, "payout callback for no payout here");
                return Ok(adapter.callback_ack(false));
            }
        }
        let order_no = callback.order_no.clone();
        let payment = self
            .inner
            .readers
            .read(move |sql| payments::by_channel_order(sql, &order_no))
            .await?;
        let owned_here = payment.as_ref().is_some_and(|p| {
            p.attempts
                .iter()
                .any(|a| a.order.order_no == callback.order_no && a.order.channel == channel)
        });
        let Some(payment) = payment.filter(|_| owned_here) else {
            tracing::warn!(%channel, order = %callback.order_no, "callback for an order this channel does not have");
            return Ok(adapter.callback_ack(false));
        };
        let result = bank_result(Ok(callback.status));
        self.apply_report(&payment.id, &callback.order_no, Source::Callback, result)
            .await?;
        Ok(adapter.callback_ack(true))
    }

    async fn refund_callback(
        &self,
        channel: &str,
        adapter: &dyn paycore_channels::ChannelAdapter,
        callback: paycore_channels::Callback,
    ) -> Result<Ack> {
        let order_no = callback.order_no.clone();
        let refund = self
            .inner
            .readers
            .read(move |sql| refunds::by_channel_order(sql, &order_no))
            .await?;
        let Some(refund) = refund.filter(|r| r.order.channel == channel) else {
            tracing::warn!(%channel, order = %callback.order_no, "refund callback for an order this channel does not have");
            return Ok(adapter.callback_ack(false));
        };
        let result = bank_result(Ok(callback.status));
        self.apply_refund_report(&refund.id, Source::Callback, result)
            .await?;
        Ok(adapter.callback_ack(true))
    }
}
