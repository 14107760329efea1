import Testing

@testable import PruneCore

@Suite("Parameter signatures")
struct ParameterSignatureTests {
    @Test func parsesTypesRangesChoicesAndDefaults() throws {
        let signature = try ParameterSignature(
            parsing: "sparsity:f64[0..1), p:f64[1..inf]=2, k:i64[1..]=8, mode:str{mean|max}=mean, on:bool=true")
        #expect(signature.parameters.map(\.name) == ["sparsity", "p", "k", "mode", "on"])
        #expect(signature["sparsity"]?.defaultValue == nil)
        #expect(signature["p"]?.defaultValue == .f64(2))
        #expect(signature["k"]?.range == .init(lower: 1, upper: nil))
        #expect(signature["mode"]?.choices == ["mean", "max"])
        #expect(
            signature.description == "sparsity:f64[0..1),p:f64[1..]=2,k:i64[1..]=8,mode:str{mean|max}=mean,on:bool=true"
        )
        #expect(try ParameterSignature(parsing: signature.description) == signature)
    }

    @Test func bindsValuesAndFillsDefaults() throws {
        let signature = try ParameterSignature(parsing: "sparsity:f64[0..1),p:f64=2,k:i64=8")
        let values = try signature.bind([("sparsity", "0.25"), ("k", "3")], component: "demo")
        #expect(values.double("sparsity") == 0.25)
        #expect(values.double("p") == 2)
        #expect(values.int("k") == 3)
        #expect(values.canonicalText == "sparsity=0.25,p=2,k=3")
        #expect(try signature.bind([("sparsity", "0.5"), ("p", "inf")], component: "demo").double("p") == .infinity)
    }

    @Test(
        arguments: [
            ([("sparsity", "0.5"), ("q", "1")], "'demo' has no parameter 'q'"),
            ([("sparsity", "half")], "parameter 'sparsity' must be a number, not 'half'"),
            ([("sparsity", "1")], "parameter 'sparsity' = 1 is outside [0..1)"),
            ([("sparsity", "-0.1")], "parameter 'sparsity' = -0.1 is outside [0..1)"),
            ([("k", "2")], "'demo' needs parameter 'sparsity'"),
            ([("sparsity", "0.5"), ("k", "2.5")], "parameter 'k' must be an integer"),
            ([("sparsity", "0.5"), ("sparsity", "0.1")], "parameter 'sparsity' is given twice"),
            ([("sparsity", "0.5"), ("mode", "sum")], "parameter 'mode' must be one of mean, max, not 'sum'"),
        ] as [([(String, String)], String)])
    func rejectsBadArgumentsNamingComponentAndParameter(arguments: [(String, String)], expected: String) {
        let signature = try! ParameterSignature(parsing: "sparsity:f64[0..1),k:i64=1,mode:str{mean|max}=mean")
        let error = #expect(throws: PruneError.self) {
            try signature.bind(arguments.map { (key: $0.0, value: $0.1) }, component: "demo")
        }
        #expect(error?.kind == .invalidParameter)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    @Test(arguments: ["p", "p:float", "1p:f64", "p:f64=x", "p:str[0..1]", "p:f64{a|b}", "p:f64[0..1", "a:f64,a:i64"])
    func rejectsMalformedDeclarations(text: String) {
        #expect(throws: PruneError.self) { try ParameterSignature(parsing: text) }
    }

    @Test func rejectsDefaultOutsideItsOwnRange() {
        #expect(throws: PruneError.self) { try ParameterSignature(parsing: "s:f64[0..1)=1") }
    }
}

@Suite("Component specs")
struct ComponentSpecTests {
    @Test func parsesNameAndArguments() throws {
        let spec = try ComponentSpec(parsing: " global:sparsity=0.5, max=0.9 ")
        #expect(spec.name == "global")
        #expect(spec.arguments.map(\.key) == ["sparsity", "max"])
        #expect(spec.arguments.map(\.value) == ["0.5", "0.9"])
        #expect(spec.description == "global:sparsity=0.5,max=0.9")
        #expect(try ComponentSpec(parsing: "mask").arguments.isEmpty)
    }

    @Test(arguments: ["", ":a=1", "global:sparsity", "global:=1", "a,b"])
    func rejectsMalformedSpecs(text: String) {
        #expect(throws: PruneError.self) { try ComponentSpec(parsing: text) }
    }
}
