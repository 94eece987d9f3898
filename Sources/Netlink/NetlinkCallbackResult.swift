/// What a walk callback tells the walk, as libmnl's MNL_CB_OK / MNL_CB_STOP / MNL_CB_ERROR.
public enum NetlinkCallbackResult: Sendable, Equatable {
    /// Go on with the next message or attribute.
    case ok
    /// Stop here; nothing is wrong.
    case stop
    /// Stop here; what was read is not usable.
    case error
}
