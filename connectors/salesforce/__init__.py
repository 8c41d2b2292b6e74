"""Salesforce connector: simple_salesforce over REST, JWT bearer or refresh-token OAuth."""
