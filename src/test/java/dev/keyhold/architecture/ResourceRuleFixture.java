package dev.keyhold.architecture;

import jakarta.persistence.EntityManager;

/**
 * Breaks the resource rule's condition on purpose: a class with SQL of its own. Not annotated with {@code @Path}
 * (Quarkus would serve a test class that is), so the self-check applies the rule's condition to it directly.
 */
class ResourceRuleFixture {

    EntityManager em;

    Object count() {
        return em.createNativeQuery("select 1").getSingleResult();
    }
}
