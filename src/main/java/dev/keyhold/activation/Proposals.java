package dev.keyhold.activation;

import dev.keyhold.store.ActivationRequestEntity;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import java.net.URI;
import java.util.function.Function;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * The HTTP answer of every operation that opens a dual-control request (policy change, resume, trust rollback, ...):
 * the proposal runs with the caller's identity, a refusal is audited ({@link Refusals}), and the request opened is
 * answered 201 with its view and its location under {@code /v1/activations}.
 */
@RequestScoped
public class Proposals {

    @Inject
    ActivationRequests requests;

    @Inject
    Refusals refusals;

    @Inject
    SecurityIdentity identity;

    /** Runs {@code propose} (audited when refused) and answers 201 with the request it opened. */
    public RestResponse<ActivationView> open(Function<SecurityIdentity, ActivationRequestEntity> propose) {
        return answer(refusals.audited(() -> propose.apply(identity)), true);
    }

    /** Runs {@code work} with the caller's identity, auditing a refusal. */
    public <T> T audited(Function<SecurityIdentity, T> work) {
        return refusals.audited(() -> work.apply(identity));
    }

    /** 201 with the location for a request just opened; 200 for one that was already live. */
    public RestResponse<ActivationView> answer(ActivationRequestEntity request, boolean created) {
        ActivationView v = requests.view(request.id);
        return created
                ? RestResponse.ResponseBuilder.<ActivationView>created(URI.create("/v1/activations/" + v.id()))
                        .entity(v)
                        .build()
                : RestResponse.ok(v);
    }
}
