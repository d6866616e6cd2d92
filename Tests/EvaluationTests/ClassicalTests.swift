// The classical references against scikit-learn (Fixtures/classical.json, made by Fixtures/make_classical.py),
// and L-BFGS on a function whose minimum is known by hand.
import Autograd
import Foundation
@testable import Evaluation
import Optim
import Testing

/// The scikit-learn answers, loosely typed.
struct ClassicalFixture {
    static func section(_ name: String) -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/classical.json")
        let root = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return root[name] as! [String: Any]
    }
}

extension Dictionary where Key == String, Value == Any {
    func doubles(_ key: String) -> [Double] { self[key] as! [Double] }
    func ints(_ key: String) -> [Int] { self[key] as! [Int] }
    func int(_ key: String) -> Int { self[key] as! Int }
    func matrix(_ key: String, columns: Int) -> Tensor {
        let values = doubles(key).map(Float.init)
        return Tensor(shape: [values.count / columns, columns], values)
    }
}

@Suite("Classical references")
struct ClassicalTests {
    @Test func nearestNeighboursMatchScikitLearn() {
        let f = ClassicalFixture.section("knn")
        let columns = f.int("features")
        let (train, test) = (f.matrix("x_train", columns: columns), f.matrix("x_test", columns: columns))
        for k in [1, 5] {
            let knn = NearestNeighbourClassifier(features: train, labels: f.ints("y_train"), classCount: f.int("classes"), k: k)
            #expect(knn.predict(test) == f.ints("majority_\(k)"), "k = \(k)")
        }
        let weighted = NearestNeighbourClassifier(features: train, labels: f.ints("y_train"), classCount: f.int("classes"), k: 20,
                                                  vote: .weighted(temperature: 0.07))
        #expect(weighted.predict(test) == f.ints("weighted_20"))
    }

    @Test func nearestNeighbourIsTheMostSimilarByAngleNotByLength() {
        // References along x (class 0) and y (class 1); the query (10, 1) is far from (1, 0) in distance but
        // at a small angle to it: cosine similarity ignores length.
        let references = Tensor(shape: [2, 2], [1, 0, 0, 5])
        let knn = NearestNeighbourClassifier(features: references, labels: [0, 1], classCount: 2, k: 1)
        #expect(knn.predict(Tensor(shape: [2, 2], [10, 1, 0.1, 3])) == [0, 1])
    }

    @Test func logisticRegressionReachesScikitLearnsOptimum() {
        let f = ClassicalFixture.section("logistic")
        let columns = f.int("features")
        let (train, test) = (f.matrix("x_train", columns: columns), f.matrix("x_test", columns: columns))
        let scaler = FeatureStandardizer(fitting: train)
        #expect(zip(scaler.mean, f.doubles("scaler_mean")).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        #expect(zip(scaler.scale, f.doubles("scaler_scale")).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        for c in [1.0, 0.1] {
            let reference = f["c\(c)"] as! [String: Any]
            let model = LogisticRegression(features: scaler(train), labels: f.ints("y_train"), classCount: f.int("classes"), inverseRegularization: c)
            #expect(model.converged)
            #expect(zip(model.weights, reference.doubles("coef")).allSatisfy { abs($0 - $1) < 1e-4 }, "C = \(c): coefficients")
            #expect(zip(model.intercepts, reference.doubles("intercept")).allSatisfy { abs($0 - $1) < 1e-4 }, "C = \(c): intercepts")
            #expect(zip(model.probabilities(scaler(test)), reference.doubles("proba")).allSatisfy { abs($0 - $1) < 1e-5 }, "C = \(c): probabilities")
        }
    }

    @Test func naiveBayesCountsAsScikitLearn() {
        let f = ClassicalFixture.section("naive_bayes")
        let model = MultinomialNaiveBayes(documents: f["train"] as! [[Int]], labels: f.ints("labels"), classCount: 2, vocabularySize: f.int("vocabulary"))
        #expect(zip(model.logPrior, f.doubles("class_log_prior")).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(model.logLikelihood, f.doubles("feature_log_prob")).allSatisfy { abs($0 - $1) < 1e-12 })
        let test = f["test"] as! [[Int]]
        #expect(zip(test.flatMap(model.scores), f.doubles("joint_log_likelihood")).allSatisfy { abs($0 - $1) < 1e-10 })
        #expect(test.map(model.predict) == f.ints("predict"))
    }

    @Test func naiveBayesByHand() {
        // Two documents, vocabulary {0, 1}: class 0 saw token 0 twice, class 1 saw token 1 once. With alpha 1:
        // P(0 | class 0) = (2 + 1) / (2 + 2) = 3/4, P(1 | class 1) = (1 + 1) / (1 + 2) = 2/3; priors 1/2 each.
        let model = MultinomialNaiveBayes(documents: [[0, 0], [1]], labels: [0, 1], classCount: 2, vocabularySize: 2)
        #expect(abs(model.logLikelihood[0] - log(0.75)) < 1e-12)
        #expect(abs(model.logLikelihood[3] - log(2.0 / 3)) < 1e-12)
        #expect(model.predict([0]) == 0 && model.predict([1, 1]) == 1)
    }

    @Test func lbfgsFindsTheMinimumOfAnIllConditionedQuadratic() {
        // f(x) = sum_i c_i (x_i - i)^2 with c from 1 to 1000: the minimum is x_i = i, f = 0.
        let scales = [1.0, 10, 100, 1000]
        let result = LBFGS().minimize(from: [0, 0, 0, 0]) { x -> (value: Double, gradient: [Double]) in
            var value = 0.0, gradient = [Double](repeating: 0, count: 4)
            for i in 0..<4 {
                let d = x[i] - Double(i)
                value += scales[i] * d * d
                gradient[i] = 2 * scales[i] * d
            }
            return (value, gradient)
        }
        #expect(result.converged)
        #expect(result.x.indices.allSatisfy { abs(result.x[$0] - Double($0)) < 1e-6 })
    }
}
