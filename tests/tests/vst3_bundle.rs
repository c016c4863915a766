//! The VST3 bundle: its library loads, exports the VST3 entry points, and
//! its factory lists the Pianola class.

use std::ffi::{CStr, c_char, c_void};

use pianola_tests::clap_host::bundled_dir;

/// `Steinberg::PClassInfo`.
#[repr(C)]
struct ClassInfo {
    cid: [u8; 16],
    cardinality: i32,
    category: [c_char; 32],
    name: [c_char; 64],
}

/// The first entries of `Steinberg::IPluginFactory`'s vtable.
#[repr(C)]
struct FactoryVtable {
    query_interface: unsafe extern "system" fn(*mut c_void, *const u8, *mut *mut c_void) -> i32,
    add_ref: unsafe extern "system" fn(*mut c_void) -> u32,
    release: unsafe extern "system" fn(*mut c_void) -> u32,
    get_factory_info: unsafe extern "system" fn(*mut c_void, *mut c_void) -> i32,
    count_classes: unsafe extern "system" fn(*mut c_void) -> i32,
    get_class_info: unsafe extern "system" fn(*mut c_void, i32, *mut ClassInfo) -> i32,
}

#[test]
fn the_vst3_factory_exports_one_pianola_class() {
    let library = bundled_dir().join("pianola.vst3/Contents/x86_64-linux/pianola.so");
    assert!(library.is_file(), "{} exists", library.display());
    // SAFETY: the bundle is this workspace's own plugin; the calls follow
    // the VST3 module protocol (ModuleEntry, GetPluginFactory, ModuleExit).
    unsafe {
        let lib = libloading::Library::new(&library).expect("loading the VST3 library");
        let module_entry: libloading::Symbol<unsafe extern "C" fn(*mut c_void) -> bool> =
            lib.get(b"ModuleEntry").expect("ModuleEntry is exported");
        let module_exit: libloading::Symbol<unsafe extern "C" fn() -> bool> =
            lib.get(b"ModuleExit").expect("ModuleExit is exported");
        let get_factory: libloading::Symbol<unsafe extern "system" fn() -> *mut c_void> = lib
            .get(b"GetPluginFactory")
            .expect("GetPluginFactory is exported");
        assert!(module_entry(std::ptr::null_mut()));

        let factory = get_factory();
        assert!(!factory.is_null());
        let vtable = &**(factory as *mut *const FactoryVtable);
        assert_eq!((vtable.count_classes)(factory), 1, "one class");
        let mut info: ClassInfo = std::mem::zeroed();
        assert_eq!(
            (vtable.get_class_info)(factory, 0, &mut info),
            0,
            "kResultOk"
        );
        let name = CStr::from_ptr(info.name.as_ptr()).to_string_lossy();
        let category = CStr::from_ptr(info.category.as_ptr()).to_string_lossy();
        assert_eq!(name, "Pianola");
        assert_eq!(category, "Audio Module Class");
        assert_eq!(&info.cid, b"PianolaLstmPlay!");
        (vtable.release)(factory);
        assert!(module_exit());
    }
}
