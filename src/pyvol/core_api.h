// The C interface between the two pyvol plugins (libnimbus_pyvol.so, libh5pyvol.so) and the bridge
// core (nimbus_pyvol_core.so).
//
// Why two pieces: HDF5 dlopens every lib*.so in its plugin path with RTLD_LOCAL whenever it searches
// for a connector, in C programs too. The plugins therefore carry no libpython dependency and do
// nothing at load; only the first file create/open makes libpython globally visible (so that
// extension modules such as numpy can resolve its symbols) and loads the core, whose Py* symbols
// bind to that libpython or to the host interpreter's. The core's file name has no "lib" prefix so
// the plugin search never loads it, and both plugins share the one core of a process.
#pragma once

#include <hdf5.h>
#include <H5VLconnector.h>

#ifdef __cplusplus
extern "C" {
#endif

// Bumped whenever this header changes: a plugin refuses a core of another version.
#define NIMBUS_PYVOL_CORE_ABI 1

enum nimbus_pyvol_flavour {
  NIMBUS_PYVOL_MODERN = 0,  // "pyvol": configured by its info string
  NIMBUS_PYVOL_SEED = 1,    // "H5PyVOL": H5PyVOLModule / H5PyVOLClass, module from the cwd
};

// What selects the Python connector. Strings are NUL-terminated; empty means "not given".
typedef struct nimbus_pyvol_config_t {
  int flavour;                    // nimbus_pyvol_flavour
  const char* module;             // module=
  const char* class_name;         // class=
  const char* path;               // path=  (prepended to sys.path)
  const char* python_executable;  // python= (embedded hosts: the interpreter to emulate, for
                                  // sys.prefix and site-packages, e.g. a venv's bin/python)
} nimbus_pyvol_config_t;

typedef struct nimbus_pyvol_core_t {
  unsigned abi;  // NIMBUS_PYVOL_CORE_ABI
  // Every callback of the class that takes an object the core created. The introspection, info and
  // wrap members are the plugins' own and are NULL here.
  const H5VL_class_t* object_class;
  void* (*file_create)(const nimbus_pyvol_config_t* config, const char* name, unsigned flags,
                       hid_t fcpl_id, hid_t fapl_id, hid_t dxpl_id, void** req);
  void* (*file_open)(const nimbus_pyvol_config_t* config, const char* name, unsigned flags,
                     hid_t fapl_id, hid_t dxpl_id, void** req);
  // File specific operations without an object (IS_ACCESSIBLE, DELETE).
  herr_t (*file_specific_unbound)(const nimbus_pyvol_config_t* config,
                                  H5VL_file_specific_args_t* args, hid_t dxpl_id, void** req);
  // Handles alive in the core (files, groups, datasets, attributes), for leak tests.
  long (*live_handles)(void);
} nimbus_pyvol_core_t;

// The core's only exported symbol.
const nimbus_pyvol_core_t* nimbus_pyvol_core(void);

#ifdef __cplusplus
}
#endif
