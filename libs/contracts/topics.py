"""Topic names, versioned like the contracts they carry."""

USAGE_RAW = "cloudbill.usage.raw.v1"  # any Kafka client may produce here; validated by the interface layer
USAGE = "cloudbill.usage.v1"  # validated usage, keyed by subscription
USAGE_DEAD_LETTER = "cloudbill.usage.dead-letter.v1"
BILLING = "cloudbill.billing.v1"  # InvoiceRequested, BillingRunCompleted, BalanceLow ...
INVOICES = "cloudbill.invoices.v1"  # InvoiceIssued, InvoiceArchived
PAYMENTS = "cloudbill.payments.v1"  # PaymentReceived
DEAD_LETTER = "cloudbill.dead-letter.v1"

ALL = [USAGE_RAW, USAGE, USAGE_DEAD_LETTER, BILLING, INVOICES, PAYMENTS, DEAD_LETTER]
