DROP TABLE backchannel_requests;
ALTER TABLE clients DROP COLUMN backchannel_client_notification_endpoint;
ALTER TABLE clients DROP COLUMN backchannel_token_delivery_mode;
ALTER TABLE approvals DROP COLUMN binding_message;
DROP TABLE action_types;
