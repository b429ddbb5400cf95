-- Forwarders a domain trusts (tenants/dmarcforwarders.go): mail from these
-- client networks that fails the author domain's DMARC policy p=reject is
-- filed into Junk instead of refused, since a forwarder that changes
-- messages (a list, an alias service) breaks their DKIM signatures and SPF.
CREATE TABLE dmarc_forwarders (
    id         {{ID}},
    domain_id  BIGINT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    network    TEXT NOT NULL,
    created_at {{TIME}} NOT NULL
);
CREATE UNIQUE INDEX dmarc_forwarders_network ON dmarc_forwarders (domain_id, network);
