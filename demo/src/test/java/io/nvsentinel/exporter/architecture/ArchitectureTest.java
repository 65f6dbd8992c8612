package io.nvsentinel.exporter.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package structure the README's design section describes, checked over the compiled main
 * classes of every module (this module has them all on its class path).
 */
class ArchitectureTest {

  private static final String ROOT = "io.nvsentinel.exporter";
  private static final String[] SHARED = {
    ROOT,
    ROOT + ".config..",
    ROOT + ".event..",
    ROOT + ".filter..",
    ROOT + ".cloudevent..",
    ROOT + ".tracing..",
    ROOT + ".delivery..",
    ROOT + ".sink..",
    ROOT + ".deadletter..",
    ROOT + ".checkpoint..",
    ROOT + ".store..",
    ROOT + ".datastore..",
    ROOT + ".metrics.."
  };

  /** Where a datastore's driver may be used: its store package, and the local stack. */
  private static final String[] DRIVER_USERS = {
    ROOT + ".store.mongo..", ROOT + ".store.postgres..", ROOT + ".devstack.."
  };

  private static final String[] TRIGGERS = {ROOT + ".live..", ROOT + ".backfill.."};

  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    ImportOption mainOnly =
        location ->
            !location.contains("/test-classes/")
                && !location.contains("-tests.jar")
                && !location.contains("/bench/");
    main = new ClassFileImporter().withImportOption(mainOnly).importPackages(ROOT);
  }

  @Test
  void theImportedClassesAreEveryModulesMainCode() {
    // a rule over no classes passes whatever it says; make sure every module is here
    assertThat(main.containPackage(ROOT + ".live.stream")).isTrue();
    assertThat(main.containPackage(ROOT + ".store.mongo")).isTrue();
    assertThat(main.containPackage(ROOT + ".store.postgres")).isTrue();
    assertThat(main.containPackage(ROOT + ".backfill.job")).isTrue();
    assertThat(main.containPackage(ROOT + ".delivery")).isTrue();
    assertThat(main.containPackage(ROOT + ".devstack")).isTrue();
  }

  @Test
  void everyPackageIsOneTheseRulesName() {
    List<String> known = new ArrayList<>(List.of(SHARED));
    known.addAll(List.of(TRIGGERS));
    known.addAll(List.of(ROOT + ".devstack..", ROOT + ".demo.."));
    classes().should().resideInAnyPackage(known.toArray(String[]::new)).check(main);
  }

  @Test
  void driversStayBehindTheDatastoreSeam() {
    noClasses()
        .that()
        .resideOutsideOfPackages(DRIVER_USERS)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("com.mongodb..", "org.postgresql..")
        .because("each store translates its driver's types and failures (README, design)")
        .check(main);
  }

  @Test
  void theCoreKnowsTheStoresOnlyThroughTheSeam() {
    noClasses()
        .that()
        .resideOutsideOfPackages(
            ROOT + ".store.mongo..",
            ROOT + ".store.postgres..",
            ROOT + ".demo..",
            ROOT + ".devstack..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(ROOT + ".store.mongo..", ROOT + ".store.postgres..")
        .because("a new store is one package and one registration")
        .check(main);
  }

  @Test
  void noStoreKnowsAnother() {
    noClasses()
        .that()
        .resideInAPackage(ROOT + ".store.mongo..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(ROOT + ".store.postgres..")
        .check(main);
    noClasses()
        .that()
        .resideInAPackage(ROOT + ".store.postgres..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(ROOT + ".store.mongo..")
        .check(main);
  }

  @Test
  void noTwoPackagesDependOnEachOther() {
    slices().matching(ROOT + ".(**)").should().beFreeOfCycles().check(main);
  }

  @Test
  void theSharedCoreKnowsNeitherTriggerNorTheLocalStack() {
    noClasses()
        .that()
        .resideInAnyPackage(SHARED)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(TRIGGERS)
        .orShould()
        .dependOnClassesThat()
        .resideInAnyPackage(ROOT + ".devstack..", ROOT + ".demo..")
        .check(main);
  }

  @Test
  void theTwoTriggersAreIndependentOfEachOther() {
    noClasses()
        .that()
        .resideInAPackage(ROOT + ".live..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(ROOT + ".backfill..")
        .check(main);
    noClasses()
        .that()
        .resideInAPackage(ROOT + ".backfill..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(ROOT + ".live..")
        .check(main);
  }

  @Test
  void onlyTheDemoPutsTheExporterOnTheLocalStack() {
    noClasses()
        .that()
        .resideOutsideOfPackages(ROOT + ".devstack..", ROOT + ".demo..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(ROOT + ".devstack..")
        .check(main);
    noClasses()
        .that()
        .resideInAPackage(ROOT + ".devstack..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(ROOT + ".live..", ROOT + ".backfill..", ROOT + ".delivery..")
        .check(main);
  }
}
