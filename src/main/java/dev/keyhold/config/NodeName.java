package dev.keyhold.config;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** This instance's name, as audit records show it. */
@ApplicationScoped
public class NodeName {

    private final String name;

    @Inject
    public NodeName(KeyholdConfig config) {
        this.name = config.node().orElseGet(NodeName::hostName);
    }

    public String get() {
        return name;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "keyhold";
        }
    }
}
