package dev.keyhold.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.EntityManager;
import jakarta.ws.rs.Path;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layer rules, enforced by the build: a pure domain, no package cycles, and REST resources that reach the
 * database only through services. A rule broken here fails {@code ./mvnw verify}.
 */
class LayerRulesTest {

    private static JavaClasses keyhold;

    @BeforeAll
    static void importKeyhold() {
        keyhold = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.keyhold");
    }

    /** The lifecycle rules (states, moves, deadlines) depend on the JDK and nothing else. */
    @Test
    void theDomainDependsOnNothingOfKeyholdsOtherPackagesNorOnAFramework() {
        DOMAIN_IS_PURE.check(keyhold);
    }

    static final ArchRule DOMAIN_IS_PURE = noClasses()
            .that()
            .resideInAPackage("dev.keyhold.domain..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "dev.keyhold.activation..",
                    "dev.keyhold.audit..",
                    "dev.keyhold.canary..",
                    "dev.keyhold.command..",
                    "dev.keyhold.config..",
                    "dev.keyhold.console..",
                    "dev.keyhold.embedded..",
                    "dev.keyhold.error..",
                    "dev.keyhold.events..",
                    "dev.keyhold.evidence..",
                    "dev.keyhold.health..",
                    "dev.keyhold.hsm..",
                    "dev.keyhold.http..",
                    "dev.keyhold.issuer..",
                    "dev.keyhold.jwks..",
                    "dev.keyhold.key..",
                    "dev.keyhold.lifecycle..",
                    "dev.keyhold.logging..",
                    "dev.keyhold.ratelimit..",
                    "dev.keyhold.relay..",
                    "dev.keyhold.rotation..",
                    "dev.keyhold.security..",
                    "dev.keyhold.signing..",
                    "dev.keyhold.store..",
                    "dev.keyhold.tools..",
                    "dev.keyhold.trust..",
                    "dev.keyhold.verify..",
                    "dev.keyhold.custodian..",
                    "dev.keyhold.policy..",
                    "io.quarkus..",
                    "io.smallrye..",
                    "io.vertx..",
                    "org.hibernate..",
                    "jakarta..",
                    "javax.persistence..",
                    "javax.ws.rs..",
                    "com.fasterxml..",
                    "com.nimbusds..")
            .because(
                    "the domain is the part every other package may use; it must stay testable with a fixed clock alone");

    /** Also catches a Keyhold package added later that the list above does not name. */
    @Test
    void theDomainUsesOnlyItselfAndTheJdk() {
        classes()
                .that()
                .resideInAPackage("dev.keyhold.domain..")
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage("dev.keyhold.domain..", "java..")
                .check(keyhold);
    }

    @Test
    // (**): every package is its own slice, so a cycle between a package and its subpackage counts too
    void keyholdsPackagesHaveNoCycles() {
        slices().matching("dev.keyhold.(**)").should().beFreeOfCycles().check(keyhold);
    }

    /** Resources decide statuses and shapes; services own transactions; persistence stays behind them. */
    @Test
    void resourcesDoNotTouchPersistenceDirectly() {
        RESOURCES_USE_SERVICES.check(keyhold);
    }

    static final ArchRule RESOURCES_USE_SERVICES = classes()
            .that()
            .areAnnotatedWith(Path.class)
            .should(notUsePersistence())
            .because("a resource talks to a service, and the service to the store");

    /**
     * The rules can fail: the domain rule on a fixture class that breaks it on purpose (test code, outside the main
     * import); the resource rule's condition on a fixture class that uses the EntityManager.
     */
    @Test
    void theRulesCatchWhatTheyForbid() {
        JavaClasses fixture =
                new ClassFileImporter().importClasses(dev.keyhold.domain.LayerRuleFixtures.ImpureDomainClass.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DOMAIN_IS_PURE.check(fixture))
                .hasMessageContaining("HsmPort")
                .hasMessageContaining("jakarta.persistence");
        JavaClasses resource = new ClassFileImporter().importClasses(ResourceRuleFixture.class);
        ArchRule sameCondition = classes().should(notUsePersistence());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> sameCondition.check(resource))
                .hasMessageContaining("ResourceRuleFixture")
                .hasMessageContaining("EntityManager");
    }

    private static ArchCondition<JavaClass> notUsePersistence() {
        return new ArchCondition<>("not use EntityManager, DataSource or Panache entities") {
            @Override
            public void check(JavaClass resource, ConditionEvents events) {
                resource.getDirectDependenciesFromSelf().forEach(d -> {
                    JavaClass target = d.getTargetClass();
                    boolean persistence = target.isAssignableTo(EntityManager.class)
                            || target.isAssignableTo(DataSource.class)
                            || target.isAssignableTo(PanacheEntityBase.class);
                    if (persistence) {
                        events.add(SimpleConditionEvent.violated(resource, d.getDescription()));
                    }
                });
            }
        };
    }
}
