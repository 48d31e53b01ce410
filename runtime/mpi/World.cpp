//===- World.cpp - the communicator the environment asks for --------------===//
#include "runtime/mpi/World.h"

#include <cstdlib>

namespace kiln::comm {

#ifdef KILN_HAVE_MPI
std::unique_ptr<Communicator> openMpi(std::string &error); // MpiComm.cpp
#endif

int launcherWorldSize() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char *v = std::getenv(var))
      return std::atoi(v);
  return 0;
}

std::unique_ptr<Communicator> openWorld(std::string &error) {
  if (launcherWorldSize() == 0)
    return nullptr;
#ifdef KILN_HAVE_MPI
  return openMpi(error);
#else
  error = "started by mpirun, but kiln was built without MPI "
          "(install libopenmpi-dev and reconfigure)";
  return nullptr;
#endif
}

} // namespace kiln::comm
