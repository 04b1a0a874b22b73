package dev.keyhold.security;

import static dev.keyhold.testsupport.Tokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.credential.PasswordCredential;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.UsernamePasswordAuthenticationRequest;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The cache of verified Basic credentials must never let a wrong password, another user, or another user's roles
 * through because a right credential was seen before.
 */
@QuarkusTest
class VerifiedCredentialsTest {

    /** Runs the realm's blocking work in place (the test thread may block). */
    static final AuthenticationRequestContext IN_PLACE = new AuthenticationRequestContext() {
        @Override
        public Uni<SecurityIdentity> runBlocking(Supplier<SecurityIdentity> function) {
            return Uni.createFrom().item(function);
        }
    };

    @Inject
    VerifiedCredentials credentials;

    @Inject
    Lifecycle lifecycle;

    static io.restassured.response.Response sign(String user, String password, String issuer) {
        return RestAssured.given()
                .auth()
                .preemptive()
                .basic(user, password)
                .contentType(ContentType.JSON)
                .body(Map.of("claims", claims(issuer)))
                .post("/v1/issuers/" + issuer + "/sign");
    }

    @Test
    void aWrongPasswordAfterARightOneIsRefusedAndTheRightOneStillWorks() {
        String id = Api.createIssuer("vcred");
        lifecycle.activeKey(id);
        sign("signer", Api.PASSWORD, id).then().statusCode(200);
        assertThat(credentials.knows("signer", Api.PASSWORD.toCharArray())).isTrue(); // HTTP Basic goes through it
        sign("signer", Api.PASSWORD, id).then().statusCode(200); // now from the cache
        sign("signer", Api.PASSWORD + "x", id).then().statusCode(401);
        sign("signer", "keyhold-de", id).then().statusCode(401);
        sign("signer", "", id).then().statusCode(401);
        sign("signer", Api.PASSWORD.toUpperCase(), id).then().statusCode(401);
        sign("Signer", Api.PASSWORD, id).then().statusCode(401); // another (unknown) user with the same password
        sign("signer", Api.PASSWORD, id).then().statusCode(200);
        assertThat(credentials.knows("signer", (Api.PASSWORD + "x").toCharArray()))
                .isFalse();
    }

    @Test
    void aWrongPasswordFirstDoesNotPoisonTheRightOne() {
        String id = Api.createIssuer("vcred");
        lifecycle.activeKey(id);
        sign("signer", "nope", id).then().statusCode(401);
        sign("signer", Api.PASSWORD, id).then().statusCode(200);
        sign("signer", "nope", id).then().statusCode(401);
    }

    @Test
    void eachCredentialGetsItsOwnUsersRolesNeverAnotherCachedOne() {
        String id = Api.createIssuer("vcred");
        lifecycle.activeKey(id);
        // All demo principals share one password: the cache must still tell them apart.
        sign("signer", Api.PASSWORD, id).then().statusCode(200);
        sign("alice", Api.PASSWORD, id).then().statusCode(403); // custodian role, not signer
        sign("signer2", Api.PASSWORD, id).then().statusCode(403); // a signer this issuer does not name
        sign("auditor", Api.PASSWORD, id).then().statusCode(403);
        sign("signer", Api.PASSWORD, id).then().statusCode(200);
        sign("alice", Api.PASSWORD, id).then().statusCode(403);
    }

    @Test
    void cachedIdentityHasTheRealmsRolesAndNoCredential() {
        SecurityIdentity first = authenticate("signer2", Api.PASSWORD);
        SecurityIdentity again = authenticate("signer2", Api.PASSWORD);
        assertThat(again).isSameAs(first);
        assertThat(first.getPrincipal().getName()).isEqualTo("signer2");
        assertThat(first.getRoles()).containsExactly(Roles.SIGNER);
        assertThat(first.getCredentials()).isEmpty();
        assertThat(authenticate("ops", Api.PASSWORD).getRoles()).containsExactly(Roles.ADMIN);
    }

    @Test
    void wrongPasswordsAreRefusedAndNeverStored() {
        authenticate("auditor", Api.PASSWORD);
        int before = credentials.size();
        for (int i = 0; i < 50; i++) {
            String guess = "guess-" + i;
            String nobody = "nobody-" + i;
            assertThatThrownBy(() -> authenticate("auditor", guess)).isInstanceOf(AuthenticationFailedException.class);
            assertThatThrownBy(() -> authenticate(nobody, Api.PASSWORD))
                    .isInstanceOf(AuthenticationFailedException.class);
        }
        assertThat(credentials.size()).isEqualTo(before);
        assertThat(authenticate("auditor", Api.PASSWORD).getPrincipal().getName())
                .isEqualTo("auditor");
    }

    @Test
    void keysSeparateUserFromPasswordAndDependOnEveryCharacter() {
        assertThat(credentials.key("ab", "c".toCharArray())).isNotEqualTo(credentials.key("a", "bc".toCharArray()));
        assertThat(credentials.key("a", "b".toCharArray())).isNotEqualTo(credentials.key("a", "c".toCharArray()));
        assertThat(credentials.key("a", "b".toCharArray())).isNotEqualTo(credentials.key("b", "b".toCharArray()));
        assertThat(credentials.key("a", "b".toCharArray())).isEqualTo(credentials.key("a", "b".toCharArray()));
        assertThat(credentials.key("a", "é".toCharArray())).isNotEqualTo(credentials.key("a", "e".toCharArray()));
    }

    @Test
    void clearForgetsButTheRealmStillDecides() {
        authenticate("carol", Api.PASSWORD);
        credentials.clear();
        assertThat(credentials.size()).isZero();
        assertThatThrownBy(() -> authenticate("carol", "wrong")).isInstanceOf(AuthenticationFailedException.class);
        assertThat(authenticate("carol", Api.PASSWORD).getRoles()).containsExactly(Roles.CUSTODIAN);
    }

    @Test
    void aColonInThePasswordStaysInThePassword() {
        // No demo user has one, so the pair is never accepted: what matters is that "user:pa:ss" is looked up as
        // user "user" with password "pa:ss", like Quarkus splits it, not as "user:pa" with "ss".
        assertThat(credentials.key("user", "pa:ss".toCharArray()))
                .isNotEqualTo(credentials.key("user:pa", "ss".toCharArray()));
    }

    private SecurityIdentity authenticate(String user, String password) {
        return credentials
                .authenticate(
                        new UsernamePasswordAuthenticationRequest(user, new PasswordCredential(password.toCharArray())),
                        IN_PLACE)
                .await()
                .indefinitely();
    }
}
