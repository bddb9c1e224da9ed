-- A neutralised copy must never issue real waybills.
UPDATE kdniao_account
   SET environment = 'sandbox',
       api_key = NULL;
UPDATE logistics_carrier_account
   SET kdniao_customer_pwd = NULL,
       kdniao_month_code = NULL;
