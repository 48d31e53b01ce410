//===- World.h - the communicator the environment asks for ------*- C++ -*-===//
//
// Library kiln_comm_mpi (CMake links it only into programs that want MPI, so
// kiln_core stays free of MPI headers and libraries). Under `mpirun -np N`
// (OMPI_COMM_WORLD_SIZE / PMI_SIZE set) openWorld() starts the MPI backend
// (runtime/mpi/MpiComm.cpp): one rank per process; otherwise it returns
// null, the single-rank communicator. Built without MPI, a program started
// by mpirun gets an error instead of N copies of a one-rank run.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Communicator.h"

#include <memory>
#include <string>

namespace kiln::comm {

/// World size mpirun announced in the environment, or 0.
int launcherWorldSize();

/// The MPI world communicator when launched by mpirun (size >= 1), null for
/// a plain single-process run; null with `error` set if MPI cannot start.
/// Call once per process; the communicator finalizes MPI when destroyed.
std::unique_ptr<Communicator> openWorld(std::string &error);

} // namespace kiln::comm
