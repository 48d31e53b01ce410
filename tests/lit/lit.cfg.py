# lit configuration for kiln's .kir tests.
import os
import lit.formats

config.name = "kiln"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".kir", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.kiln_obj_root

# kiln tools first, then LLVM 19's FileCheck/not (LLVM 14 is also installed).
path = os.pathsep.join([config.kiln_tools_dir, config.llvm_tools_dir,
                        config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path
config.substitutions.append(("%examples", os.path.join(config.kiln_src_root, "examples")))

# %mpirun: OpenMPI's launcher with the flags this machine kind needs
# (TOOLCHAIN.md); tests that use it say `REQUIRES: mpi`.
mpirun = getattr(config, "kiln_mpirun", "")
if mpirun and not mpirun.endswith("NOTFOUND"):
    config.available_features.add("mpi")
    config.substitutions.append(("%mpirun", mpirun +
        " --allow-run-as-root --oversubscribe --mca btl self,vader --mca pml ob1"))
    for var in ("HOME", "TMPDIR", "USER"):
        if var in os.environ:
            config.environment[var] = os.environ[var]
