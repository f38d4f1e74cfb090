-- The refund a person sent through the channel to resolve an exception (action `refund`);
-- the exception closes once the refund succeeded and opens again if it failed.
ALTER TABLE pay_recon_exceptions ADD COLUMN refund_id TEXT;
