-- 014: the SMS channel. One tenant-less account sends SMS through the process's Twilio account
-- (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, and TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID:
-- secrets stay in the env file, never here); its messages are whatsapp_logs rows with channel
-- 'sms', the E.164 number in phone_number, Twilio's Message SID in provider_message_id. Its pace
-- (send_rate) and stop (delivery_state) rows are its own, made on first use.
-- Written for a database that has data: it adds one row, changes no other.
INSERT INTO accounts (name, channel, provider, tenant_id)
    VALUES ('sms', 'sms', 'twilio', NULL)
    ON CONFLICT (name) DO NOTHING;
