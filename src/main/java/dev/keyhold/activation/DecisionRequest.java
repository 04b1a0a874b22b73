package dev.keyhold.activation;

/** Body of {@code POST /v1/activations/{id}/decisions}: {@code decision} is "approve" or "reject". */
public record DecisionRequest(String decision, String comment) {
}
