"""Channel identifiers of customers (phone, email, handle, device, account, national id) and look-up."""
