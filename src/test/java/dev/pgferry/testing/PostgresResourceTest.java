package dev.pgferry.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.config.PgferryConfig;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/** The pattern every integration test follows: the resource points pgferry's backend at the fixture. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class PostgresResourceTest {

    @Inject
    PgferryConfig config;

    @Test
    void backendAndUsersFileComeFromTheFixture() {
        PostgresFixture pg = PostgresFixture.get();
        assertThat(config.backend().host()).isEqualTo(pg.host());
        assertThat(config.backend().port()).isEqualTo(pg.port());
        assertThat(config.auth().usersFile()).contains(pg.usersFile());
        assertThat(config.devPostgres().enabled()).isFalse();
    }
}
