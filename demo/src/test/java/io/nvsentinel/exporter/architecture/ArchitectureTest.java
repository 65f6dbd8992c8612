package io.nvsentinel.exporter.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package structure the README's design section describes, checked over the compiled main
 * classes of every module (this module has them all on its class path).
 */
class ArchitectureTest {

  private static final String ROOT = "io.nvsentinel.exporter";
  private static final String[] SHARED = {
    ROOT + ".config..",
    ROOT + ".event..",
    ROOT + ".cloudevent..",
    ROOT + ".delivery..",
    ROOT + ".checkpoint..",
    ROOT + ".datastore..",
    ROOT + ".metrics.."
  };

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
    assertThat(main.containPackage(ROOT + ".live.changestream")).isTrue();
    assertThat(main.containPackage(ROOT + ".backfill.job")).isTrue();
    assertThat(main.containPackage(ROOT + ".delivery")).isTrue();
    assertThat(main.containPackage(ROOT + ".devstack")).isTrue();
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
        .resideInAnyPackage(
            ROOT + ".live..", ROOT + ".backfill..", ROOT + ".devstack..", ROOT + ".demo..")
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
