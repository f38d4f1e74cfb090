//! The OpenAPI document, generated from the handlers' annotations and the model types, with
//! the answers every operation can give (`responses.rs`) and the limits the server enforces
//! (`limits.rs`) added by modifiers.
//! `tests/openapi.rs` keeps docs/openapi.json identical to it.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

mod limits;
mod responses;

use limits::Limits;
use responses::CommonResponses;

#[derive(OpenApi)]
#[openapi(
    info(title = "paycore", description = "paycore API: the ledger (accounts, transfers, holds), accounting, payments (merchants, channels, trades, payments), merchant notifications (异步通知, signed and retried) and adjustments (调账, maker-checker). Amounts are integers in minor units, and every integer is written without a fraction or exponent (`100`, not `100.0`: the server refuses such a number rather than convert it). Lengths are the server's limits in UTF-8 bytes. Every write carries an idempotency `id`."),
    paths(
        routes::accounts::open, routes::accounts::list, routes::accounts::show, routes::accounts::close,
        routes::accounts::freeze, routes::accounts::unfreeze, routes::accounts::set_hot,
        routes::transfers::create, routes::transfers::batch, routes::transfers::show,
        routes::transfers::deposit, routes::transfers::withdraw,
        routes::holds::create, routes::holds::show, routes::holds::release, routes::holds::capture, routes::holds::of_account,
        routes::keys::create, routes::keys::list, routes::keys::revoke, routes::keys::whoami,
        routes::journal::entries, routes::journal::entry_transfers, routes::journal::transfers, routes::journal::daily_balances, routes::journal::events,
        routes::dayend::day_end, routes::dayend::report, routes::verify::verify,
        routes::system::health, routes::system::metrics, routes::system::openapi,
        routes::accounting::chart, routes::accounting::create_account, routes::accounting::update_account,
        routes::accounting::delete_account, routes::accounting::vouchers, routes::accounting::voucher,
        routes::accounting::post_voucher, routes::accounting::reverse, routes::accounting::trial_balance,
        routes::accounting::gl_check, routes::accounting::reserve_report, routes::accounting::status,
        routes::accounting::exceptions, routes::accounting::retry_exceptions, routes::accounting::rules,
        routes::accounting::replace_rules, routes::accounting::periods, routes::accounting::close_period,
        routes::pay::merchants::create, routes::pay::merchants::show, routes::pay::merchants::list,
        routes::pay::channels::create, routes::pay::channels::patch, routes::pay::channels::show,
        routes::pay::channels::list, routes::pay::notify::notify,
        routes::pay::trades::create, routes::pay::trades::show, routes::pay::trades::find,
        routes::pay::payments::create, routes::pay::payments::show, routes::pay::payments::resend,
        routes::pay::payments::reroute, routes::pay::refunds::create, routes::pay::refunds::show,
        routes::pay::trades::close, routes::pay::payouts::create, routes::pay::payouts::show,
        routes::pay::payouts::list, routes::pay::payouts::resend, routes::pay::payouts::reroute,
        routes::pay::merchants::rotate_secret, routes::pay::notifications::list,
        routes::pay::notifications::show, routes::pay::notifications::retry,
        routes::adjustments::create, routes::adjustments::list, routes::adjustments::show,
        routes::adjustments::approve, routes::adjustments::reject,
        routes::recon::import, routes::recon::create_run, routes::recon::show_run,
        routes::recon::list_runs, routes::recon::list_exceptions, routes::recon::show_exception,
        routes::recon::resolve, routes::recon::report,
    ),
    modifiers(&BearerAuth, &CommonResponses, &Limits),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}
