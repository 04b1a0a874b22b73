package dev.keyhold.domain;

import dev.keyhold.hsm.HsmPort;

/** A class that breaks the domain rule on purpose, so architecture/LayerRulesTest can show the rule fails. */
public final class LayerRuleFixtures {

    private LayerRuleFixtures() {}

    /** A domain class reaching for the HSM and for persistence. */
    public static final class ImpureDomainClass {
        HsmPort hsm;

        @jakarta.persistence.Transient
        String field;
    }
}
