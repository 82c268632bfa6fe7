-- 012: the email channel. One tenant-less account sends email through the mail server of the
-- process configuration (SMTP_URL, SMTP_USERNAME, SMTP_PASSWORD, SMTP_FROM: secrets stay in the
-- env file, never here); its messages are whatsapp_logs rows with channel 'email', the address
-- in phone_number, the Message-ID we wrote in provider_message_id. Its pace (send_rate), stop
-- (delivery_state) and recipients' pacing rows are its own, made on first use.
-- Written for a database that has data: it adds one row, changes no other.
INSERT INTO accounts (name, channel, provider, tenant_id)
    VALUES ('email', 'email', 'smtp', NULL)
    ON CONFLICT (name) DO NOTHING;
