package dev.keyhold.domain;

import java.time.Duration;

/** An issuer's timing policy (SPEC "Issuer"). Consistency rules live in {@link IssuerValidator}. */
public record IssuerPolicy(
        Duration rotationPeriod,
        Duration publishLead,
        Duration tokenTtl,
        Duration activeDeadline,
        Duration destroyGrace,
        Duration approvalTtl) {}
