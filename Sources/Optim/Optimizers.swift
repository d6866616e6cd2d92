// Optimizers: SGD with momentum and AdamW, over parameter groups.
import Foundation
//
// A parameter group is a set of tensors that share a weight decay (and a learning-rate scale).
// Transformers are trained with decay on weight matrices only: biases, LayerNorm scales and position
// embeddings are not pulled toward zero (`ParameterGroup.standard(_:weightDecay:)`).
import Autograd

/// Tensors that share a weight decay and a learning-rate scale.
public struct ParameterGroup {
    /// The tensors.
    public var parameters: [Tensor]
    /// Decoupled weight decay (AdamW) or L2 added to the gradient (SGD).
    public var weightDecay: Float
    /// Multiplies the optimizer's learning rate for this group.
    public var learningRateScale: Float

    /// A group.
    public init(_ parameters: [Tensor], weightDecay: Float = 0, learningRateScale: Float = 1) {
        self.parameters = parameters
        self.weightDecay = weightDecay
        self.learningRateScale = learningRateScale
    }

    /// Two groups: decay for weight matrices (rank >= 2), none for biases, norms and anything whose name
    /// says it is a position embedding (the nanoGPT/BEiT rule, stated by name and rank).
    public static func standard(_ named: [(name: String, tensor: Tensor)], weightDecay: Float) -> [ParameterGroup] {
        let exempt = { (name: String, t: Tensor) in t.rank < 2 || name.lowercased().contains("position") || name.lowercased().contains("norm") }
        return [ParameterGroup(named.filter { !exempt($0.name, $0.tensor) }.map(\.tensor), weightDecay: weightDecay),
                ParameterGroup(named.filter { exempt($0.name, $0.tensor) }.map(\.tensor), weightDecay: 0)]
    }
}

/// Updates parameters from their gradients.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get }
    /// The learning rate of the next step (set it from a schedule before each step).
    var learningRate: Float { get set }
    /// Updates every parameter that has a gradient.
    func step()
}

extension Optimizer {
    /// Forgets the gradients of every parameter.
    public func zeroGradients() { for group in groups { for p in group.parameters { p.zeroGradient() } } }
}

/// SGD with momentum (PyTorch's form): v <- mu v + (g + wd p);  p <- p - lr v.
public final class SGD: Optimizer {
    /// The parameter groups.
    public let groups: [ParameterGroup]
    /// The learning rate of the next step.
    public var learningRate: Float
    /// The velocity's decay (0: plain SGD).
    public let momentum: Float
    private var velocities: [ObjectIdentifier: Tensor] = [:]

    /// SGD over `groups`.
    public init(_ groups: [ParameterGroup], learningRate: Float, momentum: Float = 0) {
        self.groups = groups
        self.learningRate = learningRate
        self.momentum = momentum
    }

    /// One update of every parameter that has a gradient.
    public func step() {
        for group in groups {
            let lr = learningRate * group.learningRateScale, wd = group.weightDecay
            for p in group.parameters {
                guard let grad = p.grad else { continue }
                let velocity = velocities[ObjectIdentifier(p), default: Tensor.zeros(p.shape)]
                velocities[ObjectIdentifier(p)] = velocity
                let pp = p.storage.pointer, g = grad.storage.pointer, v = velocity.storage.pointer
                for i in 0..<p.count {
                    v[i] = momentum * v[i] + g[i] + wd * pp[i]
                    pp[i] -= lr * v[i]
                }
            }
        }
    }
}

/// AdamW (Loshchilov and Hutter, 2019): Adam with weight decay applied to the weights directly
/// ("decoupled"), not through the gradient. With t the step number, exactly as PyTorch's AdamW:
///     p <- p (1 - lr wd)
///     m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
///     p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
public final class AdamW: Optimizer {
    /// The parameter groups.
    public let groups: [ParameterGroup]
    /// The learning rate of the next step.
    public var learningRate: Float
    /// Decays of the first and second moments, and the epsilon of the denominator.
    public let beta1: Float, beta2: Float, epsilon: Float
    /// Steps taken (t of the bias corrections).
    public private(set) var stepCount = 0
    private var moments: [ObjectIdentifier: (m: Tensor, v: Tensor)] = [:]

    /// AdamW over `groups`, PyTorch's defaults.
    public init(_ groups: [ParameterGroup], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.groups = groups
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// One update of every parameter that has a gradient.
    ///
    /// The parameters are laid end to end and cut into one contiguous range per thread (a model has many
    /// small tensors; one thread per tensor would leave the other idle), and each element is updated eight
    /// at a time with the very operations, in the same order, of the formula above (so the same floats as
    /// one element at a time: IEEE division and square root are exact roundings in every lane).
    public func step() {
        stepCount += 1
        let hyper = Hyper(b1: beta1, b2: beta2, epsilon: epsilon,
                          correction1: 1 - powf(beta1, Float(stepCount)), correction2: 1 - powf(beta2, Float(stepCount)))
        var work: [Slice] = [], total = 0
        for group in groups {
            let lr = learningRate * group.learningRateScale, decay = 1 - lr * group.weightDecay
            for p in group.parameters {
                guard let grad = p.grad else { continue }
                let state = moments[ObjectIdentifier(p)] ?? (Tensor.zeros(p.shape), Tensor.zeros(p.shape))
                moments[ObjectIdentifier(p)] = state
                work.append(Slice(p: p.storage.pointer, g: grad.storage.pointer, m: state.m.storage.pointer, v: state.v.storage.pointer,
                                  start: total, count: p.count, lr: lr, decay: decay))
                total += p.count
            }
        }
        Parallel.forEachChunk(of: total, minimumPerChunk: 1 << 15) { range in
            for slice in work where slice.start < range.upperBound && slice.start + slice.count > range.lowerBound {
                let from = Swift.max(range.lowerBound, slice.start) - slice.start
                let to = Swift.min(range.upperBound, slice.start + slice.count) - slice.start
                AdamW.update(slice, from: from, to: to, hyper)
            }
        }
    }

    /// The step's constants: decays, epsilon and the bias corrections 1 - b^t.
    private struct Hyper { let b1, b2, epsilon, correction1, correction2: Float }

    /// One parameter tensor's pointers (weights, gradient, moments), where it starts among all the
    /// parameters laid end to end, and its group's learning rate and decay factor 1 - lr wd.
    private struct Slice: @unchecked Sendable {
        let p, g, m, v: UnsafeMutablePointer<Float>
        let start, count: Int
        let lr, decay: Float
    }

    /// Updates elements from..<to of one tensor: the formula of the type's comment, eight lanes at a time.
    /// The last partial group goes through the same formula on zero-padded lanes, of which only the real
    /// ones are stored, so the formula is written once and every element is computed alike.
    @inline(__always)
    private static func update(_ s: Slice, from: Int, to: Int, _ h: Hyper) {
        typealias V = SIMD8<Float>
        let (b1, b2, oneMinusB1, oneMinusB2) = (V(repeating: h.b1), V(repeating: h.b2), V(repeating: 1 - h.b1), V(repeating: 1 - h.b2))
        let (c1, c2, eps, lr, decay) = (V(repeating: h.correction1), V(repeating: h.correction2), V(repeating: h.epsilon),
                                        V(repeating: s.lr), V(repeating: s.decay))
        /// Loads `count` floats at p + i (the other lanes 0), updates them and stores them back.
        @inline(__always) func step(at i: Int, count: Int) {
            @inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> V {
                if count == 8 { return UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }
                var x = V()
                for j in 0..<count { x[j] = p[i + j] }
                return x
            }
            @inline(__always) func store(_ x: V, _ p: UnsafeMutablePointer<Float>) {
                if count == 8 { return UnsafeMutableRawPointer(p + i).storeBytes(of: x, as: V.self) }
                for j in 0..<count { p[i + j] = x[j] }
            }
            let g = load(s.g)
            let m = b1 * load(s.m) + oneMinusB1 * g
            let v = b2 * load(s.v) + oneMinusB2 * g * g
            let p = load(s.p) * decay
            store(m, s.m)
            store(v, s.v)
            store(p - lr * (m / c1) / ((v / c2).squareRoot() + eps), s.p)
        }
        var i = from
        while i + 8 <= to {
            step(at: i, count: 8)
            i += 8
        }
        if i < to { step(at: i, count: to - i) }
    }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm` (PyTorch's
/// `clip_grad_norm_`). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var sumOfSquares: Double = 0
    for p in parameters { if let g = p.grad { for i in 0..<g.count { sumOfSquares += Double(g.storage.pointer[i] * g.storage.pointer[i]) } } }
    let norm = Float(sumOfSquares.squareRoot())
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for p in parameters { if let g = p.grad { for i in 0..<g.count { g.storage.pointer[i] *= scale } } }
    }
    return norm
}
