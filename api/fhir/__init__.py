"""HL7 FHIR R4 under /fhir/: referrals as transaction Bundles, followed and moved as Tasks (DESIGN.md, FHIR mapping)."""
