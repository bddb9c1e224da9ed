-- A neutralised copy of a production database must neither pull orders nor hold the shops' secrets.
UPDATE logistics_shop
   SET sync_enabled = false,
       app_secret = NULL,
       access_token = NULL,
       refresh_token = NULL,
       webhook_secret = NULL;
