/// The largest models every part of microgen can hold: the RPC protocol (docs/protocol.md), the
/// device runtime (`mg_rpc.h`) and the generated C. The importer refuses a model past any of
/// them with the limit in its message, instead of letting it fail in the C compiler or on the
/// device.
public enum GraphLimits {
    /// INFO and the runtime's model description count inputs in one byte (`uint8_t num_inputs`),
    /// and TENSOR_INFO and WRITE_INPUT address them with a one-byte index.
    public static let inputs = 255
    /// The same for outputs (`num_outputs`, READ_OUTPUT's index).
    public static let outputs = 255
    /// INFO and RUN count operators in 16 bits (`uint16_t num_operators`): the timing table.
    public static let operators = 65_535
    /// TENSOR_INFO carries at most 6 dimensions (`MG_RPC_MAX_RANK`), the size of the runtime's
    /// `dims` array; kernels handle at most that many.
    public static let rank = 6
    /// Bytes of one tensor and of the arena: the generated kernels index elements with `int`
    /// (32 bits on every target) and the protocol carries sizes and offsets as u32; no
    /// microcontroller has 2 GiB of RAM anyway.
    public static let bytes = Int(Int32.max)
}
